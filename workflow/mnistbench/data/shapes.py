"""A dataset's shape (image size and classes), read from its files in the conventions it keeps.

IDX files carry their own dimensions, so the image size is what the images' header says. The
classes come from the labels: the largest label + 1, or the definition's ``classes`` checked
against every label. Two options of a dataset's definition cover how the sets people reach for
after MNIST are stored: ``label_offset`` is subtracted from every label (EMNIST letters number
their 26 classes 1..26) and ``transpose`` swaps each image's rows and columns (EMNIST stores its
images column-major). Neither copies the images: a transposed image is a view of the mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench.errors import MnistbenchError


@dataclass(frozen=True)
class Conventions:
    """How one dataset's files are read: the options of its definition in the config."""

    classes: int | None = None  # declared number of classes; None: the largest label + 1
    label_offset: int = 0  # subtracted from every label: the label of class 0
    transpose: bool = False  # images stored column-major: swap each one's rows and columns
    image_size: tuple[int, int] | None = None  # declared (rows, cols), as the variants see them

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Conventions:
        """The options of a ``dataset_definitions`` entry (already schema-checked)."""
        size = definition.get("image_size")
        return cls(
            classes=definition.get("classes"),
            label_offset=int(definition.get("label_offset", 0)),
            transpose=bool(definition.get("transpose", False)),
            image_size=(int(size[0]), int(size[1])) if size else None,
        )

    def record(self) -> dict[str, Any]:
        """How the files were read, for a run's provenance (``train.json``)."""
        return {"label_offset": self.label_offset, "transpose": self.transpose}


@dataclass(frozen=True)
class Shape:
    """What a variant sizes itself from: images of ``rows`` x ``cols`` pixels, ``classes``."""

    rows: int
    cols: int
    classes: int

    @property
    def pixels(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return f"{self.classes} classes of {self.rows} x {self.cols} images"

    def record(self) -> dict[str, Any]:
        """The shape as ``train.json`` holds it: ``n_classes`` and ``image_size`` [rows, cols]."""
        return {"n_classes": self.classes, "image_size": [self.rows, self.cols]}


# The shape the variants' defaults and the source notebooks' figures were made for.
MNIST = Shape(28, 28, 10)


def oriented(images: np.ndarray, conventions: Conventions) -> np.ndarray:
    """Images (N, rows, cols) as the variants see them: a transposed view where stored
    column-major, else ``images`` itself."""
    return images.transpose(0, 2, 1) if conventions.transpose else images


def image_size(
    images: Sequence[tuple[Path, np.ndarray]], conventions: Conventions
) -> tuple[int, int]:
    """(rows, cols) of oriented images, the same in every split and as declared, if declared."""
    (first_path, first), *others = images
    size = first.shape[1:]
    for path, split in others:
        if split.shape[1:] != size:
            raise MnistbenchError(
                f"{path}: images are {_size(split.shape[1:])}, but those in {first_path} are "
                f"{_size(size)}"
            )
    declared = conventions.image_size
    if declared is not None and tuple(size) != tuple(declared):
        stored = " after transpose" if conventions.transpose else ""
        raise MnistbenchError(
            f"{first_path}: images are {_size(size)}{stored}, but the dataset's image_size "
            f"is {_size(declared)}"
        )
    return int(size[0]), int(size[1])


def class_count(labels: Sequence[tuple[Path, np.ndarray]], conventions: Conventions) -> int:
    """The number of classes: declared, or the largest label + 1, after the label offset.

    Every label of every split is checked: one below the offset, or at or past the classes, is
    refused with the file, the label and its index.
    """
    offset = conventions.label_offset
    for path, split in labels:
        if offset and int(split.min()) < offset:
            at = int(np.argmax(split < offset))
            raise MnistbenchError(
                f"{path}: label {split[at]} at index {at} is below label_offset {offset} "
                f"(it would be class {int(split[at]) - offset})"
            )
    classes = conventions.classes or max(int(split.max()) for _, split in labels) - offset + 1
    for path, split in labels:
        if int(split.max()) - offset >= classes:
            at = int(np.argmax(split >= classes + offset))
            given = f", label_offset {offset}" if offset else ""
            raise MnistbenchError(
                f"{path}: label {split[at]} at index {at} is outside "
                f"{offset}..{offset + classes - 1} ({classes} classes{given})"
            )
    if classes < 2:
        path = labels[0][0]
        raise MnistbenchError(f"{path}: every label is {offset}: one class, nothing to classify")
    return classes


def class_labels(labels: np.ndarray, conventions: Conventions) -> np.ndarray:
    """Labels as class numbers 0..classes-1: a small copy where there is an offset."""
    if not conventions.label_offset:
        return labels
    shifted = labels - np.uint8(conventions.label_offset)  # checked: no label below the offset
    shifted.flags.writeable = False
    return shifted


def _size(size: Sequence[int]) -> str:
    return f"{size[0]} x {size[1]}"
