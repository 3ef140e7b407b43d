"""Every file a step writes goes through here: inside its output folder, whole or not at all.

A write names its output folder and a file name in it; a destination that would land outside
the folder (an absolute name, ``..``, a symbolic link leading out) is refused. Each file is
written to a hidden temporary file beside it and renamed into place only once complete, so a
failed or killed step never leaves half a file; the temporary file carries the writer's process
id, and a leftover of a killed writer is removed by the next write into that folder.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench.errors import MnistbenchError

Writer = Callable[[Path], Any]
# .<name>.<pid>.<8 hex digits>.tmp<suffix>: see atomic_path
_TEMPORARY = re.compile(r"\..+\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp(\.[^.]*)?")


def destination(folder: str | Path, name: str) -> Path:
    """``folder / name``, refusing a destination outside ``folder``.

    :raises MnistbenchError: for an absolute ``name``, a ``..`` in it, or a path that leads out
        of ``folder`` through a symbolic link.
    """
    folder, relative = Path(folder), Path(name)
    path = folder / relative
    inside = not relative.is_absolute() and ".." not in relative.parts and relative.parts
    if inside:
        real_folder, real_parent = folder.resolve(), path.parent.resolve()
        inside = real_parent == real_folder or real_folder in real_parent.parents
    if not inside:
        raise MnistbenchError(f"{path}: refusing to write outside the output folder {folder}")
    return path


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Remove the temporary files in ``folder`` whose writer is no longer running.

    A killed step (SIGKILL, a node lost) cannot clean up after itself; the next write does.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if not match or _process_alive(int(match["pid"])):
            continue
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


@contextmanager
def atomic_path(folder: str | Path, name: str) -> Iterator[Path]:
    """Yield a temporary path in ``folder``; rename it to ``folder / name`` if the block succeeds.

    The temporary file is removed on every way out of the block: an error, Ctrl-C or SIGTERM.
    """
    path = destination(folder, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path.parent)
    # Not mkstemp: its 0600 mode would stick to the output; this file gets the umask's mode.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_atomically(folder: str | Path, name: str, write: Writer) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``folder / name``; return that path."""
    with atomic_path(folder, name) as tmp:
        write(tmp)
    return Path(folder) / name


def write_all(folder: str | Path, writers: Mapping[str, Writer]) -> None:
    """Write several files of one folder, renaming them into place only once all are written.

    If any write fails, none of the files is replaced: a step's outputs stay a consistent set.
    """
    with _atomic_paths(folder, list(writers)) as tmps:
        for name, write in writers.items():
            write(tmps[name])


@contextmanager
def _atomic_paths(folder, names: list[str]) -> Iterator[dict[str, Path]]:
    """:func:`atomic_path` for each of ``names``; the renames happen as the blocks unwind."""
    if not names:
        yield {}
        return
    with atomic_path(folder, names[0]) as first, _atomic_paths(folder, names[1:]) as rest:
        yield {names[0]: first, **rest}


@contextmanager
def output_folder(folder: str | Path) -> Iterator[Path]:
    """Create ``folder`` if needed and check that files can be written there, before any work.

    Fails at once with one line when the folder cannot be written (read-only, no permission,
    a file in the way), rather than after the training time is spent. If the block fails, the
    folders this call created are removed again when empty: a failed step leaves nothing.
    """
    folder = Path(folder)
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        probe.open("x").close()
        probe.unlink()
    except OSError as error:
        _remove_empty(missing)
        raise MnistbenchError(
            f"{folder}: cannot write to this output folder ({error.strerror or error}); "
            "make it writable or choose another output folder"
        ) from None
    remove_leftovers(folder)
    try:
        yield folder
    except BaseException:
        _remove_empty(missing)
        raise


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def finite_json(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON's null), NumPy scalars as Python's."""
    if isinstance(value, Mapping):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_file(data: Mapping[str, Any]) -> Writer:
    """A writer of ``data`` as valid JSON: a number that is not finite is written as null."""
    text = json.dumps(finite_json(data), indent=2, allow_nan=False) + "\n"
    return lambda path: Path(path).write_text(text)


def write_json(folder: str | Path, name: str, data: Mapping[str, Any]) -> Path:
    """Write ``data`` to ``folder / name`` as valid JSON (see :func:`json_file`)."""
    return write_atomically(folder, name, json_file(data))


def read_json(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MnistbenchError(f"{path}: cannot read JSON ({error})") from None
    if not isinstance(data, dict):
        raise MnistbenchError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data
