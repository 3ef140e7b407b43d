"""Reading and validating IDX files, the format MNIST and its drop-in replacements ship in.

Every structural check happens before NumPy sees the bytes, so a bad file is refused with one
line that names it and the problem, never a traceback from deep inside NumPy. Nothing is copied:
a plain IDX file is memory-mapped (:func:`open_array`), so a job holds in memory only the pages
of the images it uses; a gzip file is decompressed once and parsed in place.

Layout: two zero bytes, a dtype code, the number of dimensions, then one big-endian uint32 per
dimension, then the payload in C order.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistbench.errors import MnistbenchError

DTYPE_CODES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path) -> bytes:
    """Return the IDX bytes of ``path``, decompressing it if it is gzip (checked, not trusted)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise MnistbenchError(f"{path}: cannot read ({error.strerror or error})") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise MnistbenchError(f"{path}: corrupt gzip data ({error})") from None


HEADER_MAX = 4 + 4 * 255  # the longest header: 255 dimensions


@dataclass(frozen=True)
class Header:
    """What an IDX header declares: the array's dtype and shape, and so the file's exact size."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def header_size(self) -> int:
        return 4 + 4 * len(self.shape)

    @property
    def payload_size(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def file_size(self) -> int:
        return self.header_size + self.payload_size


def read_header(data: bytes, name: str | Path = "<bytes>") -> Header | None:
    """Check the header at the start of ``data``; None if ``data`` is too short to hold it all.

    The fetch step calls this on the first bytes of a stream, to learn the file's size before
    the rest arrives.
    """
    if len(data) >= 2 and (data[0] != 0 or data[1] != 0):
        raise MnistbenchError(
            f"{name}: not an IDX file (magic number starts 0x{data[0]:02x}{data[1]:02x}, "
            "expected 0x0000)"
        )
    if len(data) < 4:
        return None
    code, ndim = data[2], data[3]
    if code not in DTYPE_CODES:
        raise MnistbenchError(f"{name}: unknown IDX dtype code 0x{code:02x}")
    if ndim == 0:
        raise MnistbenchError(f"{name}: IDX header declares zero dimensions")
    if len(data) < 4 + 4 * ndim:
        return None
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    if shape[0] == 0:
        raise MnistbenchError(f"{name}: holds zero items")
    return Header(DTYPE_CODES[code], shape)


def parse(data: bytes, name: str | Path = "<bytes>") -> np.ndarray:
    """Parse IDX ``data`` into a read-only array, checking every field of the header."""
    header = read_header(data, name)
    if header is None:
        if len(data) < 4:
            raise MnistbenchError(f"{name}: not an IDX file (only {len(data)} bytes)")
        raise MnistbenchError(f"{name}: truncated IDX header ({len(data)} bytes)")
    _check_payload(header, len(data), name)
    return np.frombuffer(data, header.dtype, offset=header.header_size).reshape(header.shape)


def _check_payload(header: Header, file_size: int, name: str | Path) -> None:
    """Refuse a file whose payload is shorter or longer than its header's dimensions say."""
    shape, expected = header.shape, header.payload_size
    actual = file_size - header.header_size
    if actual < expected:
        raise MnistbenchError(
            f"{name}: truncated payload: {actual} bytes, dimensions {shape} need {expected}"
        )
    if actual > expected:
        raise MnistbenchError(
            f"{name}: {actual - expected} trailing bytes after the payload of dimensions {shape}"
        )


def is_gzip(path: str | Path) -> bool:
    """Whether ``path`` starts with gzip's magic number (a missing file is not gzip)."""
    try:
        with Path(path).open("rb") as f:
            return f.read(2) == GZIP_MAGIC
    except OSError:
        return False


def open_array(path: str | Path) -> np.ndarray:
    """One IDX file as a read-only array, its header and size checked first.

    A plain file is memory-mapped: the operating system reads a page when it is first used, so
    the first 4,000 images of a million cost the memory of 4,000. A gzip file cannot be mapped;
    it is decompressed and parsed as :func:`read` does.
    """
    if is_gzip(path):
        return read(path)
    try:
        with Path(path).open("rb") as f:
            head, file_size = f.read(HEADER_MAX), os.fstat(f.fileno()).st_size
    except OSError as error:
        raise MnistbenchError(f"{path}: cannot read ({error.strerror or error})") from None
    header = read_header(head, path)
    if header is None:  # shorter than its header, so ``head`` is the whole file
        return parse(head, path)
    if header.payload_size == 0:  # nothing to map
        return read(path)
    _check_payload(header, file_size, path)
    mapped = np.memmap(path, header.dtype, "r", offset=header.header_size, shape=header.shape)
    return np.asarray(mapped)  # a plain read-only ndarray, still backed by the mapping


def read(path: str | Path) -> np.ndarray:
    """Read and validate one IDX file (plain or gzip) into memory."""
    return parse(read_bytes(path), path)


def read_split(
    images_path: str | Path, labels_path: str | Path, n_classes: int | None = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Read one split: images (N, rows, cols) uint8 and labels (N,) uint8, checked together."""
    return check_split(read(images_path), read(labels_path), images_path, labels_path, n_classes)


def check_split(
    images: np.ndarray, labels: np.ndarray, images_path, labels_path, n_classes: int | None = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Check parsed images and labels of one split against each other; return them.

    With ``n_classes`` None the labels' range is left to the caller (a dataset's classes and
    label offset, :mod:`mnistbench.data.shapes`).
    """
    if images.ndim != 3 or images.dtype != np.uint8:
        raise MnistbenchError(
            f"{images_path}: expected 3-d uint8 images, got {images.ndim}-d {images.dtype}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise MnistbenchError(
            f"{labels_path}: expected 1-d uint8 labels, got {labels.ndim}-d {labels.dtype}"
        )
    if len(images) != len(labels):
        raise MnistbenchError(
            f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path}"
        )
    if n_classes is not None and int(labels.max()) >= n_classes:
        first = int(np.argmax(labels >= n_classes))
        raise MnistbenchError(
            f"{labels_path}: label {labels[first]} at index {first} is outside 0..{n_classes - 1}"
        )
    return images, labels
