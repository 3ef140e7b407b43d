"""Writing outputs atomically, so a failed step never leaves a half-written file behind."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench.errors import MnistbenchError


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its 0600 mode would stick to the output; this file gets the umask's mode.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomically(path: str | Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path``."""
    with atomic_path(path) as tmp:
        write(tmp)


def write_json(path: str | Path, data: Mapping[str, Any]) -> None:
    write_atomically(path, lambda p: p.write_text(json.dumps(data, indent=2) + "\n"))


def read_json(path: str | Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MnistbenchError(f"{path}: cannot read JSON ({error})") from None


def save_weights(path: str | Path, weights: Mapping[str, np.ndarray]) -> None:
    """Save weights as a plain .npz (no pickle), readable by every backend."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez(f, **{k: np.asarray(v, np.float32) for k, v in weights.items()})

    write_atomically(path, write)


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Load weights saved by :func:`save_weights`, refusing pickled objects."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except (OSError, ValueError) as error:
        raise MnistbenchError(f"{path}: cannot read weights ({error})") from None
