"""Batch sizes checked against the training set before planning, naming the key they came from."""

from __future__ import annotations

import copy
import os

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plan import limits
from mnistbench.plan.config import check, load_schema
from mnistbench.plan.experiment import plan
from tests.conftest import CONFIG
from tests.data.test_idx_errors import labels

MNIST_TRAIN = 60000  # config/config.yaml's MNIST definition: train_labels of 60008 bytes


def mlp_config(**changes):
    config = {**copy.deepcopy(CONFIG), "backends": ["numpy"], "variants": ["mlp"], **changes}
    return check(config, load_schema())


def refusal(config) -> str:
    with pytest.raises(MnistbenchError) as error:
        plan(config)
    return str(error.value)


def test_a_batch_of_the_whole_training_set_is_planned():
    experiment = plan(mlp_config(sweeps={"mlp": {"batch_size": [8, MNIST_TRAIN]}}))
    assert {run.point for run in experiment.runs} == {"batch_size=8", f"batch_size={MNIST_TRAIN}"}


def test_a_swept_batch_above_the_training_set_stops_planning_naming_the_sweep():
    config = mlp_config(sweeps={"mlp": {"batch_size": [8, MNIST_TRAIN + 1]}})
    assert refusal(config) == (
        f"config: sweeps.mlp.batch_size: {MNIST_TRAIN + 1} is more than the {MNIST_TRAIN} "
        "training images of dataset 'mnist'; a batch is at most the training set"
    )


def test_a_listed_point_above_the_training_set_is_named_as_listed():
    config = mlp_config(sweeps={"mlp": {"points": [{"batch_size": 10**20, "lr": 0.1}]}})
    assert refusal(config).startswith(
        "config: sweeps.mlp point {batch_size: 100000000000000000000, lr: 0.1}: "
        f"100000000000000000000 is more than the {MNIST_TRAIN} training images"
    )


def test_the_subset_is_the_training_set_and_the_configured_batch_is_named():
    config = mlp_config(subset={"train": 4, "test": None})
    assert refusal(config) == (
        "config: hyperparameters.mlp.batch_size: 8 is more than the 4 training images of "
        "dataset 'mnist' (subset.train); a batch is at most the training set"
    )


def test_a_default_batch_size_is_named_as_the_variants_default():
    config = mlp_config(subset={"train": 4, "test": None})
    del config["hyperparameters"]["mlp"]["batch_size"]
    assert refusal(config).startswith("config: variant 'mlp': default batch_size: 8 is more")


def test_the_fetched_label_file_counts_before_the_definitions_size(tmp_path):
    definition = CONFIG["dataset_definitions"]["mnist"]
    assert limits.train_images(definition, tmp_path) == MNIST_TRAIN  # nothing fetched yet
    (tmp_path / "train_labels.idx").write_bytes(labels(range(10)))
    assert limits.train_images(definition, tmp_path) == 10


def test_nothing_known_about_the_training_set_checks_nothing(tmp_path):
    definition = copy.deepcopy(CONFIG["dataset_definitions"]["mnist"])
    del definition["files"]["train_labels"]["size"]
    assert limits.train_images(definition, tmp_path) is None
    (tmp_path / "train_labels.idx").write_bytes(b"\x08\x03")  # not an IDX file: train refuses it
    assert limits.train_images(definition, tmp_path) is None


@pytest.mark.parametrize(
    ("cores", "max_threads", "expected"),
    [
        (4, None, (4, "--cores 4")),
        (8, 2, (2, "--max-threads 2")),
        (2, 8, (2, "--cores 2")),
        (None, 3, (3, "--max-threads 3")),
    ],
)
def test_a_job_gets_the_fewest_threads_snakemake_is_told(cores, max_threads, expected):
    assert limits.job_cores(cores, max_threads) == expected


def test_without_a_core_count_this_machines_cores_stand_in():
    most, source = limits.job_cores(None, None)
    assert most == os.cpu_count() and source == f"the {most} cores of this machine"


@pytest.mark.parametrize(
    ("changes", "key", "count"),
    [
        ({"threads": 3}, "threads", 3),
        ({"threads": [1, 2, 3]}, "threads[2]", 3),
        ({"sweeps": {"mlp": {"threads": [2, 5]}}}, "sweeps.mlp.threads", 5),
        ({"sweeps": {"mlp": {"points": [{"threads": 9, "lr": 0.1}]}}}, "sweeps.mlp point", 9),
    ],
)
def test_a_thread_count_above_the_jobs_cores_is_refused_naming_both(changes, key, count):
    with pytest.raises(MnistbenchError) as error:
        limits.check_threads(mlp_config(**changes), 2, "--cores 2")
    assert str(error.value).startswith(f"config: {key}")
    assert f": {count} threads is more than the 2 a job can have here (--cores 2)" in str(
        error.value
    )


def test_thread_counts_up_to_the_jobs_cores_pass():
    limits.check_threads(mlp_config(threads=[1, 2], sweeps={"mlp": {"threads": [2]}}), 2, "x")
