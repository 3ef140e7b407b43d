"""Shared fixtures: the real MNIST files from ../shared/data/mnist, fetched as a user would."""

from __future__ import annotations

import os

# One BLAS / PyTorch thread per process, set before NumPy or PyTorch load: the batches here are
# small, and on a shared machine extra threads only contend (a conformance run took 43 s with
# two threads and 7 s with one on this project's 2-core machines).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from mnistbench import datasets, fetch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
MNIST_FILES = CONFIG["dataset_definitions"]["mnist"]["files"]


def mnist_mirror() -> Path:
    """The local MNIST mirror: the first directory of MNISTBENCH_MIRROR, else ../shared."""
    for entry in os.environ.get(fetch.MIRROR_ENV, "").split():
        if Path(entry).is_dir():
            return Path(entry)
    return SHARED_MNIST


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mnist_mirror()
    if not (path / MNIST_FILES["train_images"]["name"]).exists():
        pytest.skip(f"no local MNIST mirror at {path} (set MNISTBENCH_MIRROR to one)")
    return path


@pytest.fixture(scope="session")
def mnist_dir(mirror, tmp_path_factory) -> Path:
    """A dataset directory made by the real fetch step from the local mirror."""
    out = tmp_path_factory.mktemp("resources") / "mnist"
    for role, spec in MNIST_FILES.items():
        fetch.fetch(spec["name"], spec["sha256"], datasets.role_path(out, role), [str(mirror)])
    return out


@pytest.fixture(scope="session")
def mnist_slice(mnist_dir):
    """The first 512 training images, scaled to [0, 1], with labels."""
    data = datasets.load(mnist_dir, train_limit=512, test_limit=512)
    x = data.train_images.reshape(512, -1).astype(np.float32) / 255
    return x, data.train_labels.astype(np.int64)
