"""Sweep points: the swept settings of a run, with canonical values and a stable folder name.

A point maps settings to values: a variant's hyperparameters, ``threads``, ``device`` and
``implementation`` (named only where it is not the backend's default, see
:mod:`mnistbench.plan.implementations`). Its
name is the run's folder between backend and seed (``results/mnist/mlp/numpy/<point>/seed0``):

- ``default``: the empty point, for a run that sweeps nothing;
- ``batch_size=8,lr=0.05``: ``name=value`` pairs in name order, values canonical (:func:`text`),
  so ``0.05`` and ``5e-2`` name one point and one folder;
- ``point-<16 hex digits>``: for a name longer than :data:`MAX_NAME` characters, or one that
  Snakemake would take for a runaway wildcard (a value ending in 20 repeats, such as
  ``batch_size=100000000000000000000``), the first 16 hex digits of the SHA-256 of the canonical
  name (stable: the same settings give the same folder).

The name is a function of the settings alone, so a point keeps its folder when others are added
to its sweep (adding a value runs only the new points). See docs/runs.md.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from mnistbench.errors import MnistbenchError

DEFAULT = "default"  # the name of the empty point
MAX_NAME = 120  # longer names fall back to point-<hash>; file systems allow 255 bytes
RUN_SETTINGS = ("threads", "device", "implementation")  # settings of a job, not of the variant
DEVICES = ("cpu", "cuda")
# The workflow's wildcard pattern for a point's folder name.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.=,+-]*"
_NAME = re.compile(NAME_PATTERN)

Point = dict[str, Any]  # setting -> canonical value


def text(value: Any) -> str:
    """A value as it appears in a point's name: ``8``, ``0.05``, ``1e-05``, ``cpu``.

    Floats are written in Python's shortest round-trip form, a whole float without ``.0``, so
    one number has one spelling whatever its YAML or command-line form.
    """
    if isinstance(value, bool):
        raise MnistbenchError(f"{value!r} is not a setting's value (a number, or cpu or cuda)")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MnistbenchError(f"{value!r} is not a finite number")
        written = repr(value)
        return written.removesuffix(".0")
    return str(value)


def name(point: Mapping[str, Any]) -> str:
    """The folder name of ``point``: ``default``, ``key=value,...`` or ``point-<hash>``."""
    if not point:
        return DEFAULT
    readable = ",".join(f"{key}={text(point[key])}" for key in sorted(point))
    if len(readable) <= MAX_NAME and not _periodic(readable):
        return readable
    return "point-" + hashlib.sha256(readable.encode()).hexdigest()[:16]


@functools.cache
def _periodic(folder: str) -> bool:
    """Whether Snakemake's DAG would refuse ``folder`` as a wildcard value that repeats itself
    (its PeriodicWildcardError); imported here, on first use, to keep the steps' start fast."""
    from snakemake.io import PeriodicityDetector

    return PeriodicityDetector().is_periodic(folder) is not None


def parse(folder: str) -> Point | None:
    """The settings a readable point name states, as text; None for a hashed name."""
    if folder == DEFAULT:
        return {}
    if folder.startswith("point-"):
        return None
    return dict(pair.split("=", 1) for pair in folder.split(","))


def without(folder: str, setting: str) -> str:
    """The name of the point ``folder`` with ``setting`` left out (a hashed name as it is): the
    point a run with another implementation pairs with, ``default`` for
    ``implementation=autograd``."""
    settings = parse(folder)
    if settings is None or setting not in settings:
        return folder
    return name({k: v for k, v in settings.items() if k != setting})


def is_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def canonical(setting: str, value: Any, defaults: Mapping[str, Any]) -> Any:
    """``value`` in the type its setting has: a float hyperparameter as float (``1`` is
    ``1.0``), a whole float as an integer for ``threads`` and integer hyperparameters (``32.0``
    is ``32``; ``8.5`` stays, for the variant to refuse)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if setting == "threads" or isinstance(defaults.get(setting), int):
        return int(value) if float(value).is_integer() else value
    if isinstance(defaults.get(setting), float):
        return float(value)
    return value


def where(variant: str, point: Mapping[str, Any]) -> str:
    """How an error names a listed point: ``sweeps.mlp point {batch_size: 8, lr: 0.1}``."""
    shown = ", ".join(f"{k}: {text(v)}" for k, v in point.items())
    return f"sweeps.{variant} point {{{shown}}}"
