"""The config's ``implementations`` made into points: which way each backend runs each variant.

    implementations: {torch: [tuned, autograd, compiled]}   # a list sweeps: torch's runs thrice
    implementations: {torch: autograd}                       # one value: every torch run

A backend lists what it offers (``python -m mnistbench backends``), its default first: PyTorch
``tuned`` (hand-written steps), ``autograd`` (autograd and ``torch.optim``) and ``compiled`` (the
same through ``torch.compile``); JAX ``autograd``; NumPy ``tuned``. A point names an implementation
only where it is not the backend's default, so a run that asks for none, or for the default,
keeps the folder and identity it had before implementations existed. A name a backend does not
offer is an error in one line; one it offers, but not for a variant (predictive coding's update
is no loss's gradient: it has no ``autograd``), is planned out with one note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnistbench.errors import MnistbenchError
from mnistbench.plan import points as pts
from mnistbench.plugin.backend import default_implementation, implementations
from mnistbench.plugin.registry import Registry

SETTING = "implementation"  # the point's setting


def check(config: Mapping[str, Any], registry: Registry) -> None:
    """Refuse an implementation a backend does not offer. The implementations of a backend that
    is not installed were set aside before, with the other per-backend settings."""
    for backend, wanted in config.get("implementations", {}).items():
        offered = implementations(registry.backends[backend])
        for value in _listed(wanted):
            if value not in offered:
                raise MnistbenchError(
                    f"config: implementations.{backend}: backend {backend!r} has no "
                    f"implementation {value!r} (it offers: {', '.join(offered)})"
                )


def backend_points(
    found: list[pts.Point],
    variant: str,
    backend: str,
    config: Mapping[str, Any],
    registry: Registry,
    skipped: list[str],
) -> list[pts.Point]:
    """``found`` (a variant's points on ``backend``) once per implementation the config asks
    for, or once with the first the backend offers for the variant; the default one unnamed.
    Those the backend lacks for the variant are left out with one note (:func:`missing`)."""
    the_backend = registry.backends[backend]
    offered = implementations(the_backend, variant)
    if (note := missing(variant, backend, config, registry)[1]) and note not in skipped:
        skipped.append(note)
    default = default_implementation(the_backend)
    kept = [v for v in _chosen(backend, config, offered) if v in offered]
    return [p if v == default else {**p, SETTING: v} for p in found for v in kept]


def missing(
    variant: str, backend: str, config: Mapping[str, Any], registry: Registry
) -> tuple[list[str], str]:
    """The implementations the config asks of ``backend`` that it lacks for ``variant``, and
    the one line that says so ("" where none is missing)."""
    offered = implementations(registry.backends[backend], variant)
    lacking = [v for v in _chosen(backend, config, offered) if v not in offered]
    if not lacking:
        return [], ""
    note = f"backend {backend!r} has no {' or '.join(map(repr, lacking))} implementation"
    note += f" of variant {variant!r}"
    return lacking, note + (f" (it has: {', '.join(offered)})" if offered else "")


def _chosen(backend: str, config: Mapping[str, Any], offered: tuple[str, ...]) -> list[str]:
    """The implementations the config asks of ``backend``, or the first it offers."""
    wanted = config.get("implementations", {}).get(backend)
    return _listed(wanted) if wanted is not None else list(offered[:1])


def _listed(wanted: str | list[str]) -> list[str]:
    return [wanted] if isinstance(wanted, str) else list(wanted)
