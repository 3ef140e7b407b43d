"""A fetched dataset on disk: four verified IDX files, one per role, in one directory."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistbench.data import idx
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


def read_file(path: str | Path, sha256: str | None = None) -> tuple[np.ndarray, str]:
    """Read one IDX file; return its array and the SHA-256 of its bytes.

    With ``sha256`` (the digest pinned in the dataset definition), a file that changed after
    the fetch step verified it is refused before it is parsed.
    """
    raw = idx.read_bytes(path)
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        raise MnistbenchError(
            f"{path}: SHA-256 {digest} differs from the pinned {sha256}: the file changed after "
            "it was fetched; delete it and run again to fetch it afresh"
        )
    return idx.parse(raw, path), digest


def load(
    data_dir: str | Path,
    n_classes: int = 10,
    train_limit: int | None = None,
    test_limit: int | None = None,
    sha256: Mapping[str, str] | None = None,
) -> Dataset:
    """Read and validate a dataset directory, optionally keeping only the first samples.

    Each file is read once: the digest and the arrays come from the same bytes. ``sha256``
    maps roles to pinned digests; each file with one must match it.
    """
    sha256 = dict(sha256 or {})
    unknown = sorted(set(sha256) - set(ROLES))
    if unknown:
        raise MnistbenchError(
            f"pinned digest for unknown role(s) {', '.join(unknown)} (roles: {', '.join(ROLES)})"
        )
    arrays, digests = {}, {}
    for split, limit in (("train", train_limit), ("test", test_limit)):
        paths = {k: role_path(data_dir, f"{split}_{k}") for k in ("images", "labels")}
        parsed = {}
        for kind, path in paths.items():
            role = f"{split}_{kind}"
            parsed[kind], digests[role] = read_file(path, sha256.get(role))
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
