"""Names that become parts of paths, checked where they enter (config schema, registry, fetch).

Dataset, variant and backend names name folders under ``results/`` and ``logs/``; a dataset
file's name is joined to a mirror's directory or URL. A name that could climb out of its folder
(``..``, ``/``, an absolute path) never gets that far.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from mnistbench.errors import MnistbenchError

# Dataset, variant and backend names: the workflow's wildcard pattern and the schema's.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
NAME_RULE = "letters, digits, '_', '.', '-'; a letter or digit first"
_NAME = re.compile(NAME_PATTERN)


def is_name(value: object) -> bool:
    """Whether ``value`` may name a dataset, variant or backend (one safe path component)."""
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def is_file_name(value: object) -> bool:
    """Whether ``value`` is one path component: no separator, not ``.`` or ``..``, no NUL."""
    return (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and not any(c in value for c in "/\\\0")
    )


def check_file_name(value: str) -> str:
    """Return ``value`` if it is one path component, else raise a one-line error."""
    if not is_file_name(value):
        raise MnistbenchError(
            f"{value!r} is not a file name: a dataset file's name is one path component "
            "(no '/' or '\\', not '.' or '..')"
        )
    return value


def refuse_typo(name: str, installed: Collection[str], what: str, where: str) -> None:
    """Raise if ``name``, which is not installed, is close to one that is (``mlpp`` for
    ``mlp``): a typo, not a plugin this environment lacks, which the caller sets aside."""
    if close := difflib.get_close_matches(name, installed, n=1, cutoff=0.75):
        raise MnistbenchError(
            f"config: {where}: unknown {what} {name!r} (did you mean {close[0]!r}? "
            f"installed: {', '.join(sorted(installed)) or 'none'})"
        )
