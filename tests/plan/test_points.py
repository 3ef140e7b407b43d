"""Sweep points: canonical values, folder names, the hashed fallback, and the planned runs."""

from __future__ import annotations

import hashlib

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plan import points
from mnistbench.plan.config import check, load_schema
from mnistbench.plan.experiment import Run, plan
from mnistbench.variants import get_variant
from tests.plan.test_experiment import CONFIG

MLP = get_variant("mlp").defaults


@pytest.mark.parametrize(
    ("value", "written"),
    [(8, "8"), (0.05, "0.05"), (5e-2, "0.05"), (1.0, "1"), (1e-05, "1e-05"), ("cpu", "cpu")],
)
def test_a_value_has_one_spelling(value, written):
    assert points.text(value) == written


def test_a_float_setting_given_as_an_integer_is_the_same_point():
    assert isinstance(points.canonical("lr", 1, MLP), float)
    assert points.canonical("batch_size", 32.0, MLP) == 32
    assert points.canonical("batch_size", 8.5, MLP) == 8.5  # left for the variant to refuse
    assert points.canonical("threads", 2.0, MLP) == 2


def test_a_name_lists_settings_in_name_order():
    assert points.name({"lr": 0.1, "batch_size": 8}) == "batch_size=8,lr=0.1"
    assert points.name({}) == points.DEFAULT
    assert points.is_name(points.name({"lr": 1e-20, "device": "cuda"}))


def test_a_long_name_falls_back_to_a_stable_hash():
    point = {f"setting_{i:02d}": 0.001 * i + 0.1 for i in range(12)}
    name = points.name(point)
    assert name.startswith("point-") and len(name) == len("point-") + 16
    assert name == points.name(dict(reversed(point.items())))  # stable: order does not matter
    assert points.parse(name) is None
    assert points.parse(points.name({"lr": 0.1})) == {"lr": "0.1"}


def sweep_config(**changes):
    config = {**CONFIG, "backends": ["numpy"], "variants": ["mlp", "mnn"], **changes}
    return check(config, load_schema())


def test_a_grid_is_the_product_of_its_lists_and_other_variants_keep_one_point():
    experiment = plan(sweep_config(sweeps={"mlp": {"batch_size": [8, 64], "lr": [0.1, 0.2]}}))
    mlp = {r.point for r in experiment.runs if r.variant == "mlp"}
    assert mlp == {f"batch_size={b},lr={lr}" for b in (8, 64) for lr in (0.1, 0.2)}
    assert {r.point for r in experiment.runs if r.variant == "mnn"} == {"default"}
    hp = experiment.run_hyperparameters("mlp", "batch_size=64,lr=0.2")
    assert (hp["batch_size"], hp["lr"], hp["hidden"]) == (64, 0.2, MLP["hidden"])


def test_a_list_of_thread_counts_is_an_axis_of_every_variant():
    experiment = plan(sweep_config(threads=[1, 2], seeds=[0]))
    assert {r.point for r in experiment.runs} == {"threads=1", "threads=2"}
    assert len(experiment.runs) == 4


def test_a_device_a_backend_cannot_use_here_is_planned_out_with_a_note():
    experiment = plan(sweep_config(sweeps={"mlp": {"device": ["cpu", "cuda"]}}, seeds=[0]))
    mlp = [r for r in experiment.runs if r.variant == "mlp"]
    assert mlp == [Run(CONFIG["datasets"][0], "mlp", "numpy", "device=cpu", 0)]
    assert any("cannot use device 'cuda'" in note for note in experiment.skipped)


def test_a_backends_device_list_is_planned_unchecked():
    experiment = plan(sweep_config(devices={"numpy": ["cpu", "cuda"]}, seeds=[0]))
    assert {r.point for r in experiment.runs} == {"device=cpu", "device=cuda"}


@pytest.mark.parametrize(
    ("sweeps", "message"),
    [
        ({"mlp": {"width": [2]}}, "config: sweeps.mlp.width: 'mlp' has no setting 'width'"),
        ({"mlp": {"lr": [0.05, 0.05]}}, "config: sweeps.mlp.lr: two values name the same point"),
        ({"mlp": {"lr": [-1]}}, "config: sweeps.mlp.lr: -1 refused"),
        (
            {"mlp": {"points": [{"lr": 0.1}, {"lr": 0.1}]}},
            "config: sweeps.mlp point {lr: 0.1}: names the same point",
        ),
    ],
)
def test_a_bad_sweep_names_the_key_and_the_value(sweeps, message):
    with pytest.raises(MnistbenchError) as raised:
        plan(sweep_config(sweeps=sweeps))
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_run_folder_gives_back_its_point():
    run = Run("mnist", "mlp", "numpy", "batch_size=8,lr=0.1", 3)
    assert run.directory == "results/mnist/mlp/numpy/batch_size=8,lr=0.1/seed3"
    assert Run.from_directory(f"/somewhere/{run.directory}") == run
    assert run.log("train") == "logs/train/mnist/mlp/numpy/batch_size=8,lr=0.1/seed3.log"


def test_a_name_snakemake_would_take_for_a_runaway_wildcard_falls_back_to_a_hash():
    """``batch_size=100000000000000000000`` ends in twenty zeros: Snakemake's DAG refuses such a
    wildcard value (PeriodicWildcardError), so the point gets a hashed folder instead."""
    periodic = {"epochs": 10**20}
    name = points.name(periodic)
    assert name.startswith("point-") and len(name) == len("point-") + 16
    assert points.name({"epochs": 10**18}) == "epochs=1000000000000000000"  # 18 zeros: readable


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "True is not a setting's value (a number, or cpu or cuda)"),
        (float("inf"), "inf is not a finite number"),
        (float("nan"), "nan is not a finite number"),
    ],
)
def test_a_value_that_cannot_name_a_point_is_refused_in_words(value, message):
    with pytest.raises(MnistbenchError) as error:
        points.text(value)
    assert str(error.value) == message


def test_a_name_of_exactly_the_longest_length_stays_readable():
    value = ("0123456789" * 12)[: points.MAX_NAME - len("x=")]  # 118 characters, no long repeat
    assert points.name({"x": value}) == f"x={value}"
    longer = f"x={value}9"
    assert points.name({"x": value + "9"}) == (
        "point-" + hashlib.sha256(longer.encode()).hexdigest()[:16]
    )


def test_a_readable_name_parses_back_to_its_settings_as_text():
    assert points.parse("default") == {}
    assert points.parse("batch_size=8,lr=0.1") == {"batch_size": "8", "lr": "0.1"}
    assert points.parse("device=cpu,threads=2") == {"device": "cpu", "threads": "2"}
    assert points.parse("point-0123456789abcdef") is None


@pytest.mark.parametrize(
    ("value", "is_name"),
    [("batch_size=8", True), ("default", True), ("-x", False), ("a/b", False), ("", False),
     (8, False), (None, False)],
)  # fmt: skip
def test_a_folder_name_has_the_workflows_wildcard_form(value, is_name):
    assert points.is_name(value) is is_name


def test_canonical_leaves_text_and_booleans_and_untyped_settings_as_given():
    assert points.canonical("device", "cpu", MLP) == "cpu"
    assert points.canonical("batch_size", True, MLP) is True
    assert points.canonical("unknown", 2.0, MLP) == 2.0 and isinstance(
        points.canonical("unknown", 2.0, MLP), float
    )
    assert points.canonical("threads", 2.5, MLP) == 2.5


def test_an_error_names_a_listed_point_by_its_settings():
    assert points.where("mlp", {"batch_size": 8, "lr": 0.1}) == (
        "sweeps.mlp point {batch_size: 8, lr: 0.1}"
    )


def test_a_whole_float_for_an_integer_setting_becomes_an_int_not_an_equal_float():
    for setting in ("threads", "batch_size"):
        value = points.canonical(setting, 32.0, MLP)
        assert type(value) is int and value == 32, setting
        assert points.text(value) == "32"


def test_a_value_holding_an_equals_sign_parses_as_the_text_after_the_first():
    assert points.parse("x=a=b,y=1") == {"x": "a=b", "y": "1"}


@pytest.mark.parametrize(
    ("folder", "paired"),
    [
        ("batch_size=8,implementation=autograd", "batch_size=8"),
        ("batch_size=8,implementation=autograd,lr=0.05", "batch_size=8,lr=0.05"),
        ("implementation=autograd", "default"),  # nothing else swept: the default point
        ("batch_size=8", "batch_size=8"),  # no implementation to leave out
        ("default", "default"),
        ("point-0123456789abcdef", "point-0123456789abcdef"),  # hashed: its settings unknown
    ],
)
def test_a_point_without_its_implementation_is_the_point_it_pairs_with(folder, paired):
    assert points.without(folder, "implementation") == paired
