"""The config's sweeps made into points: expanded, checked against the variant, canonical.

    sweeps:
      mlp: {batch_size: [8, 32, 128], lr: [0.05, 0.1]}   # a grid: 6 points
      mnn: {points: [{batch_size: 8, lr: 0.1}, {batch_size: 64, lr: 0.4}]}   # listed points
    threads: [1, 2, 4]          # a list: every variant's points, once per thread count
    devices: {torch: [cpu, cuda]}   # a list: torch's points, once per device

Every mistake stops planning with one line naming the key and the value: a setting the variant
does not have, a value it refuses, two values that name the same point, a grid mixed with a
list of points. Empty lists are refused by the config schema before this runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from mnistbench.errors import MnistbenchError
from mnistbench.plan import points as pts
from mnistbench.plugin.registry import Registry
from mnistbench.variants import Variant


def _fail(where: str, problem: str) -> MnistbenchError:
    return MnistbenchError(f"config: {where}: {problem}")


def _check_setting(variant: Variant, setting: str, where: str) -> None:
    if setting not in variant.defaults and setting not in pts.RUN_SETTINGS:
        known = ", ".join([*sorted(variant.defaults), *pts.RUN_SETTINGS])
        raise _fail(where, f"{variant.name!r} has no setting {setting!r} (known: {known})")


def _grid(variant: Variant, sweep: Mapping[str, Sequence[Any]]) -> list[pts.Point]:
    """The product of the settings' value lists, each list free of values naming one point."""
    values = {}
    for setting, given in sweep.items():
        where = f"sweeps.{variant.name}.{setting}"
        _check_setting(variant, setting, where)
        canonical = [pts.canonical(setting, v, variant.defaults) for v in given]
        texts = [pts.text(v) for v in canonical]
        for value in texts:
            if texts.count(value) > 1:
                raise _fail(
                    where,
                    f"two values name the same point {setting}={value} "
                    "(values are compared as numbers: 0.05 and 5e-2 are one)",
                )
        values[setting] = canonical
    keys = list(values)
    return [dict(zip(keys, combo)) for combo in itertools.product(*values.values())]


def _listed(variant: Variant, listed: Sequence[Mapping[str, Any]]) -> list[pts.Point]:
    """The listed points, canonical, none given twice."""
    found, names = [], {}
    for given in listed:
        where = pts.where(variant.name, given)
        for setting in given:
            _check_setting(variant, setting, where)
        point = {k: pts.canonical(k, v, variant.defaults) for k, v in given.items()}
        folder = pts.name(point)
        if folder in names:
            raise _fail(where, f"names the same point as the one listed before it ({folder})")
        names[folder] = point
        found.append(point)
    return found


def _check_values(variant: Variant, point: pts.Point, overrides: Mapping[str, Any]) -> None:
    """The variant's own check of each of the point's hyperparameters, over the overrides."""
    for key, value in point.items():
        if key in pts.RUN_SETTINGS:
            continue
        try:
            variant.hyperparameters({**overrides, key: value})
        except MnistbenchError as error:
            where = f"sweeps.{variant.name}.{key}"
            raise _fail(where, f"{pts.text(value)} refused: {error}") from None


def with_axis(points: list[pts.Point], setting: str, values: Sequence[Any]) -> list[pts.Point]:
    """``points`` once per value of ``setting``, except points that already name it."""
    if any(setting in p for p in points):
        return points
    return [{**p, setting: value} for p in points for value in values]


def variant_points(
    variant: Variant,
    sweep: Mapping[str, Any] | None,
    overrides: Mapping[str, Any] | None,
    threads: int | Sequence[int],
) -> list[pts.Point]:
    """The points of one variant: its sweep, times the config's list of thread counts if any.

    Without a sweep (and with one thread count) the variant has one point, the empty one.
    """
    sweep = dict(sweep or {})
    if "points" in sweep and len(sweep) > 1:
        others = ", ".join(sorted(set(sweep) - {"points"}))
        raise _fail(
            f"sweeps.{variant.name}",
            f"both points and a grid ({others}); give one: a grid, or every point in points",
        )
    found = _listed(variant, sweep["points"]) if "points" in sweep else _grid(variant, sweep)
    for point in found:
        _check_values(variant, point, overrides or {})
    if isinstance(threads, list):
        found = with_axis(found, "threads", threads)
    return found or [{}]


def backend_points(
    found: list[pts.Point],
    backend: str,
    config: Mapping[str, Any],
    registry: Registry,
    skipped: list[str],
) -> list[pts.Point]:
    """A variant's points on one backend: times its list of devices, if the config gives one.

    A device named in a variant's sweep that the backend cannot use here is planned out with
    one note; one listed under ``devices`` for the backend is planned as asked, unchecked, as
    a single device is (on a cluster the GPU is on the node a job gets, not here).
    """
    wanted = config.get("devices", {}).get(backend)
    if isinstance(wanted, list):
        return with_axis(found, "device", wanted)
    usable, kept = None, []
    for point in found:
        if "device" in point:
            usable = usable or registry.get(backend).devices()
            if point["device"] not in usable:
                note = (
                    f"backend {backend!r} cannot use device {point['device']!r} here: its "
                    f"points with device={point['device']} are planned out (name the backend's "
                    "devices under devices: to plan them anyway)"
                )
                if note not in skipped:
                    skipped.append(note)
                continue
        kept.append(point)
    return kept
