"""A fetched dataset on disk: four verified IDX files, one per role, in one directory."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistbench import idx
from mnistbench.errors import MnistbenchError

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
IMAGE_SHAPE = (28, 28)


def role_path(data_dir: str | Path, role: str) -> Path:
    """Where the fetch step puts the decompressed IDX file of ``role``."""
    return Path(data_dir) / f"{role}.idx"


@dataclass(frozen=True)
class Dataset:
    """Both splits of a dataset, as read-only uint8 arrays, with the digests of their files."""

    train_images: np.ndarray  # (N, rows, cols) uint8
    train_labels: np.ndarray  # (N,) uint8
    test_images: np.ndarray
    test_labels: np.ndarray
    sha256: dict[str, str]  # role -> SHA-256 of the IDX file that was read


def load(
    data_dir: str | Path,
    n_classes: int = 10,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> Dataset:
    """Read and validate a dataset directory, optionally keeping only the first samples.

    Each file is read once: the digest and the arrays come from the same bytes.
    """
    arrays, digests = {}, {}
    for split, limit in (("train", train_limit), ("test", test_limit)):
        paths = {k: role_path(data_dir, f"{split}_{k}") for k in ("images", "labels")}
        parsed = {}
        for kind, path in paths.items():
            raw = idx.read_bytes(path)
            digests[f"{split}_{kind}"] = hashlib.sha256(raw).hexdigest()
            parsed[kind] = idx.parse(raw, path)
        images_path, labels_path = paths["images"], paths["labels"]
        images, labels = idx.check_split(
            parsed["images"], parsed["labels"], images_path, labels_path, n_classes
        )
        if images.shape[1:] != IMAGE_SHAPE:
            rows, cols = images.shape[1:]
            raise MnistbenchError(
                f"{images_path}: images are {rows}x{cols}; the variants take 28x28 (MNIST format)"
            )
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images[:limit], labels[:limit]
    return Dataset(**arrays, sha256={role: digests[role] for role in ROLES})
