"""``mnistbench compare``: what changed between two result folders, run by run."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mnistbench.cli import main
from mnistbench.report import compare
from tests import known
from tests.cli import error_line, run_cli

RUNS = [(variant, seed) for variant in ("mlp", "sigmoid_mlp") for seed in (0, 1)]
SMALL = {"mlp": {"epochs": 1}, "sigmoid_mlp": {"iterations": 60, "log_every": 20}}


def train_and_evaluate(data, results, variant, seed, hyperparameters):
    run = results / "mnist" / variant / "numpy" / f"seed{seed}"
    limits = ["--train-limit", "600", "--test-limit", "300"]
    args = ["train", "--dataset", "mnist", "--variant", variant, "--backend", "numpy"]
    args += ["--seed", str(seed), "--data", str(data), "--out", str(run), *limits]
    assert main([*args, "--hparams", json.dumps(hyperparameters)]) == 0
    assert main(["evaluate", "--data", str(data), "--run", str(run)]) == 0
    return run / "metrics.json"


@pytest.fixture(scope="module")
def before_and_after(sample_dir, tmp_path_factory):
    """Two result folders as the workflow leaves them when mlp's learning rate changes.

    ``after`` re-trains the mlp runs with lr 0.02; the sigmoid_mlp runs are the same files, as
    Snakemake keeps the runs a change does not touch.
    """
    root = tmp_path_factory.mktemp("compare")
    before, after = root / "before", root / "after"
    metrics = [train_and_evaluate(sample_dir, before, v, s, SMALL[v]) for v, s in RUNS]
    assert main(["aggregate", *map(str, metrics), "--out", str(before)]) == 0
    shutil.copytree(before / "mnist" / "sigmoid_mlp", after / "mnist" / "sigmoid_mlp")
    changed = {**SMALL["mlp"], "lr": 0.02}
    for seed in (0, 1):
        train_and_evaluate(sample_dir, after, "mlp", seed, changed)
    metrics = [after / "mnist" / v / "numpy" / f"seed{s}" / "metrics.json" for v, s in RUNS]
    assert main(["aggregate", *map(str, metrics), "--out", str(after)]) == 0
    return before, after


def test_a_changed_hyperparameter_flags_exactly_the_runs_it_changed(before_and_after):
    changes = compare.compare(*before_and_after)
    flagged = changes[changes["flagged"] != ""]
    assert sorted(zip(flagged["variant"], flagged["seed"])) == [("mlp", 0), ("mlp", 1)]
    assert all("lr 0.1 → 0.02" in why for why in flagged["flagged"])


def test_the_table_on_stdout_and_the_html_page_show_the_flagged_runs(
    before_and_after, tmp_path, capsys
):
    page = tmp_path / "compare.html"
    assert main(["compare", *map(str, before_and_after), "--html", str(page)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["run", "before", "after"]
    flagged = sorted(line.split()[0] for line in lines[1:] if compare.FLAG in line)
    assert flagged == ["mnist/mlp/numpy/default/0", "mnist/mlp/numpy/default/1"]
    runs = len(pd.read_csv(before_and_after[0] / "summary.csv"))
    assert any(line.startswith(f"2 of {runs} runs flagged") for line in lines)
    html = page.read_text()
    assert html.count('<td class="flag">') == 2 and '<meta name="viewport"' in html


def slower_copy(before, tmp_path, factor: float, seeds=(0, 1)):
    """A copy of ``before`` where torch's runs of ``seeds`` take ``factor`` times as long."""
    summary = known.summary()
    slower = (summary["backend"] == "torch") & summary["seed"].isin(seeds)
    summary.loc[slower, "train_seconds"] *= factor
    after = tmp_path / "after"
    shutil.copytree(before, after)
    summary.to_csv(after / "summary.csv", index=False)
    return after


def test_every_seed_slower_is_flagged_with_its_interval_over_the_runs(tmp_path):
    before = known.write(tmp_path / "before")
    after = slower_copy(before, tmp_path, 2.0)
    changes = compare.compare(before, after, time_threshold=1.5).set_index(["backend", "seed"])
    assert changes.loc[("torch", 1), compare.TRAIN_RATIO] == pytest.approx(2.0)
    # 1.0 and 0.8 s become 2.0 and 1.6 s; each side resampled on its own, the ratio of medians
    # runs from 1.6 / 1.0 to 2.0 / 0.8, each extreme drawn a sixteenth of the time
    for seed in (0, 1):
        assert changes.loc[("torch", seed), "flagged"] == (
            f"{compare.FLAG} train slower 2.00× (95% interval 1.60–2.50×, median of 2 and 2 runs)"
        )
    assert (changes.loc["numpy", "flagged"] == "").all()
    assert (compare.compare(before, after, time_threshold=3)["flagged"] == "").all()
    assert run_cli("compare", str(before), str(after), "--fail-on-flag").returncode == 3


def test_a_slowdown_within_the_run_to_run_spread_is_not_flagged(tmp_path):
    before = known.write(tmp_path / "before")
    # torch's seed 1 alone twice as slow: 1.0 and 0.8 s become 1.0 and 1.6 s; resampling the
    # runs gives medians from 0.8 to 1.0 before and 1.0 to 1.6 after: an interval holding 1
    after = slower_copy(before, tmp_path, 2.0, seeds=(1,))
    changes = compare.compare(before, after, time_threshold=1.2)
    assert (changes["flagged"] == "").all()
    assert (changes[compare.UNTESTED] == "").all()


def test_one_run_a_side_is_not_tested_not_flagged_and_fail_on_flag_exits_0(tmp_path):
    one_seed = tmp_path / "one"
    known.write(one_seed)
    summary = pd.read_csv(one_seed / "summary.csv")
    summary[summary["seed"] != 1].to_csv(one_seed / "summary.csv", index=False)
    after = tmp_path / "after"
    shutil.copytree(one_seed, after)
    slower = summary[summary["seed"] != 1].copy()
    slower.loc[slower["backend"] == "torch", "train_seconds"] *= 3
    slower.to_csv(after / "summary.csv", index=False)
    changes = compare.compare(one_seed, after).set_index(["backend", "seed"])
    assert changes["flagged"].eq("").all()
    assert changes.loc[("torch", 0), compare.UNTESTED] == (
        "train slower 3.00× (one run: not tested, median of 1 and 1 runs)"
    )
    result = run_cli("compare", str(one_seed), str(after), "--fail-on-flag")
    assert result.returncode == 0, result.stderr
    assert "1 past a threshold where no test could be made (not flagged)" in result.stdout


def test_a_run_in_one_folder_only_is_flagged(tmp_path):
    before = known.write(tmp_path / "before")
    after = tmp_path / "after"
    shutil.copytree(before, after)
    summary = pd.read_csv(before / "summary.csv")
    summary[summary["seed"] == 0].to_csv(after / "summary.csv", index=False)
    flags = compare.compare(before, after).set_index(["backend", "seed"])["flagged"]
    assert flags[("torch", 1)] == f"{compare.FLAG} only before"
    assert flags[("torch", 0)] == ""


def test_a_folder_without_results_is_one_line_and_exit_1(tmp_path):
    before = known.write(tmp_path / "before")
    result = run_cli("compare", str(before), str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert error_line(result, "compare") == (
        f"mnistbench compare: error: {tmp_path / 'nothing'}: not a results folder "
        "(no summary.csv in it)"
    )
