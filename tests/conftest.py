"""Shared fixtures: the MNIST sample shipped in ``tests/data``, fetched as a user would.

Every test that needs data uses the sample, so the suite runs in full on a fresh clone with no
network. Only the tests that need all 70,000 images ask for ``full_mirror``: a local copy of full
MNIST named by ``MNISTBENCH_MIRROR``. Without one they skip, saying so, except under ``CI=true``,
where a missing mirror is an error rather than a silent skip.
"""

from __future__ import annotations

import os

# One BLAS / PyTorch thread per process, set before NumPy or PyTorch load: the batches here are
# small, and on a shared machine extra threads only contend (a conformance run took 43 s with
# two threads and 7 s with one on a 2-core machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# JAX reserves 75% of a GPU's memory when it first sees one; PyTorch's CUDA tests share it.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from mnistbench.data import (
    datasets,
    fetch,  # noqa: E402
)

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
MNIST_FILES = CONFIG["dataset_definitions"]["mnist"]["files"]

SAMPLE_DIR = REPO / "tests" / "data" / "mnist-sample"
SAMPLE_DATASET = "mnist-sample"
SAMPLE_DEFINITION = yaml.safe_load((SAMPLE_DIR / "dataset.yaml").read_text())[SAMPLE_DATASET]
SAMPLE_FILES = SAMPLE_DEFINITION["files"]
SAMPLE_TRAIN, SAMPLE_TEST = 3000, 1000  # images in the sample's splits


def train_on_sample(
    sample_dir: Path, out: Path, variant: str, hp: dict, *, seed: int, train: int, test: int
) -> None:
    """Train ``variant`` with hyperparameters ``hp`` on NumPy into ``out``, from the first
    ``train`` training and ``test`` test images of the MNIST sample: the train step as the
    command runs it, without Snakemake."""
    from mnistbench.training import train as train_step

    train_step.run(
        data=sample_dir,
        dataset=SAMPLE_DATASET,
        variant=variant,
        backend="numpy",
        seed=seed,
        out=out,
        hyperparameters=hp,
        train_limit=train,
        test_limit=test,
    )


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip locally, saying why; under ``CI=true`` fail, since CI must run every test."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: CI must provide it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """A local mirror directory holding the MNIST sample's four ``.gz`` files."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """A dataset directory made by the real fetch step from the sample's mirror."""
    out = tmp_path_factory.mktemp("resources") / SAMPLE_DATASET
    for role, spec in SAMPLE_FILES.items():
        fetch.fetch(spec["name"], spec["sha256"], datasets.role_path(out, role), [str(SAMPLE_DIR)])
    return out


@pytest.fixture(scope="session")
def mnist_slice(sample_dir):
    """The first 512 training images, scaled to [0, 1], with labels."""
    data = datasets.load(sample_dir, train_limit=512, test_limit=512)
    x = data.train_images.reshape(512, -1).astype(np.float32) / 255
    return x, data.train_labels.astype(np.int64)


@pytest.fixture(scope="session")
def full_mirror() -> Path:
    """A local mirror of full MNIST, from ``MNISTBENCH_MIRROR``, for tests on all 70,000 images."""
    for entry in os.environ.get(fetch.MIRROR_ENV, "").split():
        if (Path(entry) / MNIST_FILES["train_images"]["name"]).is_file():
            return Path(entry)
    skip_or_fail(f"needs full MNIST: set {fetch.MIRROR_ENV} to a directory holding its .gz files")
