"""python bench/synthetic_idx.py OUT [--train 1000000] [--test 10000] [--size 28 28] ...

A synthetic MNIST-format dataset of any size, shape and class count, as IDX files: the four
``<role>.idx`` files the fetch step leaves in resources/<dataset>/, ready for the train and
evaluate steps. With ``--mirror`` the folder is a mirror too: each file gzip-compressed under
MNIST's file name, and ``dataset.yaml`` holding the dataset's definition (file names, SHA-256
digests, classes, label offset, transpose) to put under ``dataset_definitions``.

Each image is seeded noise (0..63) with one 4 x 4 block lit at its class's place on a grid over
the image, so every variant can learn it. ``--label-offset`` adds to every stored label and
``--transpose`` stores each image column-major, as EMNIST does; reading the set with the same
options gives back the images and classes drawn. Images are written in chunks: a million of them
take the memory of one chunk.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import yaml

BLOCK = 4  # side of the lit square that marks a class
CHUNK = 50_000  # images generated and written at a time
MIRROR_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def header(shape: tuple[int, ...]) -> bytes:
    """An IDX header for uint8 data: magic 0x0000, dtype code 0x08, ndim, big-endian dims."""
    return bytes([0, 0, 0x08, len(shape)]) + np.array(shape, ">u4").tobytes()


def draw(rng: np.random.Generator, n: int, size: tuple[int, int], classes: int):
    """``n`` images (n, rows, cols) uint8 as the variants see them, and their classes (n,)."""
    rows, cols = size
    per_row = cols // BLOCK
    labels = rng.integers(0, classes, n)
    images = rng.integers(0, 64, (n, rows, cols), dtype=np.uint8)
    top, left = (labels // per_row) * BLOCK, (labels % per_row) * BLOCK
    for dy in range(BLOCK):
        for dx in range(BLOCK):
            images[np.arange(n), top + dy, left + dx] = 255
    return images, labels


def write_split(out: Path, split: str, n: int, options: argparse.Namespace, seed: int) -> None:
    """``<split>_images.idx`` and ``<split>_labels.idx`` in ``out``, chunk by chunk."""
    rows, cols = options.size
    stored = (cols, rows) if options.transpose else (rows, cols)
    rng = np.random.default_rng(seed)
    with (
        (out / f"{split}_images.idx").open("wb") as images_file,
        (out / f"{split}_labels.idx").open("wb") as labels_file,
    ):
        images_file.write(header((n, *stored)))
        labels_file.write(header((n,)))
        for start in range(0, n, CHUNK):
            images, labels = draw(rng, min(CHUNK, n - start), options.size, options.classes)
            if options.transpose:
                images = images.transpose(0, 2, 1)
            images_file.write(np.ascontiguousarray(images).tobytes())
            labels_file.write((labels + options.label_offset).astype(np.uint8).tobytes())


def write_mirror(out: Path, options: argparse.Namespace) -> dict:
    """Gzip each file under its MNIST name beside it; return the dataset's definition."""
    files = {}
    for role, name in MIRROR_NAMES.items():
        plain = out / f"{role}.idx"
        with (
            plain.open("rb") as source,
            (out / name).open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as target,  # the same bytes every time
        ):
            shutil.copyfileobj(source, target)
        with plain.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        files[role] = {"name": name, "sha256": digest, "size": plain.stat().st_size}
    definition = {"classes": options.classes, "mirrors": [str(out)], "files": files}
    if options.label_offset:
        definition["label_offset"] = options.label_offset
    if options.transpose:
        definition["transpose"] = True
    return definition


def make(out: Path, options: argparse.Namespace) -> dict | None:
    """Write the dataset into ``out``; with ``options.mirror`` return its definition too."""
    rows, cols = options.size
    if (rows // BLOCK) * (cols // BLOCK) < options.classes:
        raise SystemExit(
            f"synthetic_idx: {rows} x {cols} images have no room for {options.classes} classes"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_split(out, "train", options.train, options, [options.seed, 0])
    write_split(out, "test", options.test, options, [options.seed, 1])
    if not options.mirror:
        return None
    definition = write_mirror(out, options)
    (out / "dataset.yaml").write_text(yaml.safe_dump({options.name: definition}, sort_keys=False))
    return definition


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    parser.add_argument("out", type=Path, help="folder for the dataset's files")
    parser.add_argument("--train", type=int, default=1_000_000, help="training images")
    parser.add_argument("--test", type=int, default=10_000, help="test images")
    parser.add_argument("--size", type=int, nargs=2, default=[28, 28], metavar=("ROWS", "COLS"))
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--label-offset", type=int, default=0, help="added to every label")
    parser.add_argument("--transpose", action="store_true", help="store images column-major")
    parser.add_argument("--seed", type=int, default=0, help="fixes every image and label")
    parser.add_argument("--mirror", action="store_true", help="also gzip files, dataset.yaml")
    parser.add_argument("--name", default="synthetic", help="the dataset's name in dataset.yaml")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    make(arguments.out, arguments)
    print(f"synthetic_idx: {arguments.train:,} + {arguments.test:,} images in {arguments.out}")
