"""A fetched dataset on disk: four verified IDX files, one per role, in one directory.

The images stay memory-mapped (:func:`mnistbench.data.idx.open_array`): a step that uses the
first 4,000 of a million images holds those 4,000 in memory, not a copy of the file. Each file's
SHA-256 is computed by streaming it, so checking a digest costs no memory either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistbench.data import idx, shapes
from mnistbench.data.shapes import Conventions, Shape
from mnistbench.errors import MnistbenchError

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
SPLITS = ("train", "test")


def role_path(data_dir: str | Path, role: str) -> Path:
    """Where the fetch step puts the decompressed IDX file of ``role``."""
    return Path(data_dir) / f"{role}.idx"


@dataclass(frozen=True)
class Dataset:
    """Both splits of a dataset, as read-only uint8 arrays, with the digests of their files."""

    train_images: np.ndarray  # (N, rows, cols) uint8, as the variants see them
    train_labels: np.ndarray  # (N,) uint8 class numbers 0..classes-1
    test_images: np.ndarray
    test_labels: np.ndarray
    sha256: dict[str, str]  # role -> SHA-256 of the IDX file that was read
    shape: Shape  # image size from the headers, classes from the labels or the definition


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the IDX bytes of ``path``: streamed from a plain file, of the decompressed
    bytes of a gzip one."""
    if idx.is_gzip(path):
        return hashlib.sha256(idx.read_bytes(path)).hexdigest()
    try:
        with Path(path).open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as error:
        raise MnistbenchError(f"{path}: cannot read ({error.strerror or error})") from None


def read_file(path: str | Path, sha256: str | None = None) -> tuple[np.ndarray, str]:
    """Open one IDX file; return its array (memory-mapped where it can be) and its SHA-256.

    With ``sha256`` (the digest pinned in the dataset definition), a file that changed after
    the fetch step verified it is refused before it is parsed.
    """
    digest = file_sha256(path)
    if sha256 is not None and digest != sha256:
        raise MnistbenchError(
            f"{path}: SHA-256 {digest} differs from the pinned {sha256}: the file changed after "
            "it was fetched; delete it and run again to fetch it afresh"
        )
    return idx.open_array(path), digest


def load(
    data_dir: str | Path,
    conventions: Conventions | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
    sha256: Mapping[str, str] | None = None,
) -> Dataset:
    """Read and validate a dataset directory, optionally keeping only the first samples.

    ``conventions`` are the dataset's options (declared classes, label offset, transpose).
    The shape is the whole files' (classes from every label, not only the kept ones), so a
    subset trains the same network as the full set. ``sha256`` maps roles to pinned digests;
    each file with one must match it.
    """
    conventions = conventions or Conventions()
    sha256 = dict(sha256 or {})
    unknown = sorted(set(sha256) - set(ROLES))
    if unknown:
        raise MnistbenchError(
            f"pinned digest for unknown role(s) {', '.join(unknown)} (roles: {', '.join(ROLES)})"
        )
    files, digests = {}, {}
    for role in ROLES:
        path = role_path(data_dir, role)
        array, digests[role] = read_file(path, sha256.get(role))
        files[role] = (path, array)
    return _checked(files, conventions, {"train": train_limit, "test": test_limit}, digests)


def describe(data_dir: str | Path, conventions: Conventions | None = None) -> Shape:
    """The shape of the dataset in ``data_dir``, from its headers and labels, digests unchecked
    (the steps check them): what planning reads from files already fetched."""
    conventions = conventions or Conventions()
    files = {role: (role_path(data_dir, role), idx.open_array(role_path(data_dir, role)))
             for role in ROLES}  # fmt: skip
    return _checked(files, conventions, {}, {}).shape


def known_shape(data_dir: str | Path, conventions: Conventions) -> Shape | None:
    """The dataset's shape where it can be known without fetching: from its files if all four
    are in ``data_dir`` (and readable), else from a definition that declares both classes and
    image size; None otherwise (the train step reads it from the files once they arrive)."""
    if all(role_path(data_dir, role).is_file() for role in ROLES):
        try:
            return describe(data_dir, conventions)
        except MnistbenchError:
            return None  # the fetch and train steps refuse such files, naming the fault
    if conventions.classes and conventions.image_size:
        return Shape(*conventions.image_size, conventions.classes)
    return None


def _checked(files, conventions: Conventions, limits, digests) -> Dataset:
    """Check the four arrays against each other and the conventions; keep the first samples."""
    images, labels = [], []
    for split in SPLITS:
        (images_path, raw_images), (labels_path, raw_labels) = (
            files[f"{split}_images"],
            files[f"{split}_labels"],
        )
        idx.check_split(raw_images, raw_labels, images_path, labels_path, n_classes=None)
        images.append((images_path, shapes.oriented(raw_images, conventions)))
        labels.append((labels_path, raw_labels))
    rows, cols = shapes.image_size(images, conventions)
    shape = Shape(rows, cols, shapes.class_count(labels, conventions))
    arrays = {}
    for split, (_, split_images), (_, split_labels) in zip(SPLITS, images, labels):
        limit = limits.get(split)
        arrays[f"{split}_images"] = split_images[:limit]
        arrays[f"{split}_labels"] = shapes.class_labels(split_labels[:limit], conventions)
    return Dataset(**arrays, sha256=digests, shape=shape)
