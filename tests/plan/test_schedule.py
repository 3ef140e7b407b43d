"""Train jobs' priorities: the runs that take longest start first, so no core idles at the end."""

from __future__ import annotations

from mnistbench.plan import schedule
from mnistbench.plugin import contract


def priorities(n_train=60_000, **overrides):
    """The built-in variants' priorities (a variant plugin installed beside them has its own)."""
    return {
        name: schedule.train_priority(name, v.hyperparameters(overrides.get(name)), n_train)
        for name, v in contract.shipped_with("mnistbench").items()
    }


def test_the_default_runs_start_longest_first():
    p = priorities()
    order = sorted(p, key=p.get, reverse=True)
    assert order[:2] == ["mnn", "mlp"]  # about 70 s and 50 s of one core: the long tail
    assert all(p[name] < p["mlp"] for name in order[2:])


def test_priority_follows_the_runs_length():
    shorter = priorities(mnn={"epochs": 1})
    assert shorter["mnn"] < priorities()["mnn"]
    assert priorities(n_train=4000)["mlp"] < priorities()["mlp"]  # subset.train
    # dropout_mlp visits its first train_samples images only, however large the set
    assert priorities(n_train=4000)["dropout_mlp"] == priorities()["dropout_mlp"]


def test_a_variant_without_a_measured_cost_still_gets_a_valid_priority():
    assert schedule.train_priority("new_variant", {"epochs": 3}) == 1
    assert schedule.train_priority("mnn", {"epochs": 1}, n_train=10) == 1  # never 0 or below
