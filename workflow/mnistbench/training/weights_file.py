"""Trained weights on disk: a plain ``.npz`` of float32 arrays, no pickle, checked on reading.

Any backend can load any backend's weights. Reading checks the archive against the variant's
layout (names and shapes, from the array headers, before any array is read), reads each member
whole so zipfile checks its CRC, and refuses anything else in one line naming the file: random
bytes, a truncated or damaged archive, a missing or extra weight, a wrong shape, a pickle.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError

NPZ_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive with members, an empty one
_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def writer(weights: Mapping[str, np.ndarray]) -> artifacts.Writer:
    """A writer of ``weights`` as a plain .npz of float32 arrays (no pickle)."""

    def write(path: Path) -> None:
        with Path(path).open("wb") as f:
            np.savez(f, **{k: np.asarray(v, np.float32) for k, v in weights.items()})

    return write


def save(folder: str | Path, name: str, weights: Mapping[str, np.ndarray]) -> Path:
    """Save weights as a plain .npz (no pickle), readable by every backend."""
    return artifacts.write_atomically(folder, name, writer(weights))


def load(path: str | Path, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Load weights saved by :func:`save`: float arrays only, never a pickle.

    The archive must hold exactly the weights named in ``shapes``, with exactly those shapes
    (a variant's ``weight_shapes``), checked from the array headers before any array is read, so
    a wrong shape cannot make it allocate and a member lost from a damaged directory is noticed.
    Any damage is one line naming the file: random bytes, a truncated archive, a failed CRC.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as error:
        raise MnistbenchError(f"{path}: cannot read weights ({error.strerror or error})") from None
    if magic not in NPZ_MAGIC:
        raise MnistbenchError(
            f"{path}: not a weights file (an .npz archive starts with 'PK', this one with "
            f"0x{magic.hex() or 'nothing'}); train the run again"
        )
    try:
        _check_layout(path, _npy_headers(path), shapes)
        weights = _read_arrays(path)
    except MnistbenchError:
        raise
    except Exception as error:  # noqa: BLE001 - zipfile and NumPy raise many types on damage
        reason = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {reason[0]}" if reason else type(error).__name__
        raise MnistbenchError(
            f"{path}: the weights archive is damaged or truncated ({reason}); train the run again"
        ) from None
    return weights


def _npy_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each member's array name, shape and dtype, read from its .npy header alone."""
    headers = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as f:
                version = np.lib.format.read_magic(f)
                if version not in _NPY_HEADERS:
                    raise ValueError(f"{member}: unsupported .npy format version {version}")
                shape, _, dtype = _NPY_HEADERS[version](f)
            if dtype.hasobject or dtype.kind != "f":
                raise MnistbenchError(
                    f"{path}: weight {member.removesuffix('.npy')!r} holds {dtype} values, not "
                    "floating point; refusing it (weights are plain float arrays)"
                )
            headers[member.removesuffix(".npy")] = (tuple(shape), dtype)
    return headers


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array, each member read whole so that zipfile checks its CRC, and each .npy
    consumed exactly (NumPy alone stops at the array's end, missing damage after it)."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            data = archive.read(member)
            buffer = io.BytesIO(data)
            arrays[member.removesuffix(".npy")] = np.lib.format.read_array(
                buffer, allow_pickle=False
            )
            if buffer.tell() != len(data):
                raise ValueError(f"{len(data) - buffer.tell()} bytes after the array in {member}")
    return arrays


def _check_layout(path: Path, headers, shapes: Mapping[str, tuple[int, ...]]) -> None:
    missing = sorted(set(shapes) - set(headers))
    if missing:
        raise MnistbenchError(
            f"{path}: weight {', '.join(map(repr, missing))} missing (the archive holds "
            f"{', '.join(sorted(headers)) or 'nothing'}); train the run again"
        )
    extra = sorted(set(headers) - set(shapes))
    if extra:
        raise MnistbenchError(
            f"{path}: unexpected weight {', '.join(map(repr, extra))} (the variant has "
            f"{', '.join(sorted(shapes))}); train the run again"
        )
    for name, shape in shapes.items():
        if headers[name][0] != tuple(shape):
            raise MnistbenchError(
                f"{path}: weight {name!r} has shape {headers[name][0]}, the run's variant and "
                f"hyperparameters need {tuple(shape)}; train the run again"
            )
