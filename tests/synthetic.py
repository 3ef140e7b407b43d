"""Synthetic MNIST-format datasets for the tests, made by ``bench/synthetic_idx.py``.

One writer serves the tests and the million-image memory benchmark: images of any size with a
4 x 4 block lit at their class's place, labels with any offset, images stored transposed or not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("synthetic_idx", REPO / "bench" / "synthetic_idx.py")
synthetic_idx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic_idx)

# EMNIST letters' conventions on a lab's 32 x 32 crops: 26 classes labelled 1..26, column-major.
LETTERS = ["--classes", "26", "--size", "32", "32", "--label-offset", "1", "--transpose"]


def make(out: Path, *options: str, train: int = 600, test: int = 200, mirror: bool = False):
    """Write a synthetic dataset into ``out`` as the command line ``options`` say; return its
    definition when ``mirror`` (``out`` then serves it as a mirror), else None."""
    args = [str(out), "--train", str(train), "--test", str(test), *options]
    return synthetic_idx.make(out, synthetic_idx.parse_args([*args, *(["--mirror"] * mirror)]))
