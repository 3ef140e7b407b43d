"""The config's ``implementations`` made into points: which way each backend runs each variant.

    implementations: {torch: [tuned, autograd, compiled]}   # a list sweeps: torch's runs thrice
    implementations: {torch: autograd}                       # one value: every torch run
    implementations: {torch: {all: [tuned, autograd], mnn: tuned}}   # per variant; all: the rest

A backend lists what it offers (``python -m mnistbench backends``), its default first: PyTorch
``tuned`` (hand-written steps), ``autograd`` (autograd and ``torch.optim``) and ``compiled`` (the
same through ``torch.compile``); JAX ``autograd``; NumPy ``tuned``. A point names an implementation
only where it is not the backend's default, so a run that asks for none, or for the default,
keeps the folder and identity it had before implementations existed. A name a backend does not
offer is an error in one line; one it offers, but not for a variant (predictive coding's update
is no loss's gradient: it has no ``autograd``), is planned out with one note. A mapping per
variant chooses for the variants it names, ``all`` for the others (without ``all``, the others
run the backend's first way for them): mnn's autograd step trains its whole matrix where the
tuned step trains only the columns that learn, so a config may sweep the rest and not mnn.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from mnistbench.errors import MnistbenchError
from mnistbench.plan import names
from mnistbench.plan import points as pts
from mnistbench.plugin.backend import default_implementation, implementations
from mnistbench.plugin.registry import Registry

SETTING = "implementation"  # the point's setting
ALL = "all"  # in a per-variant mapping: every variant it does not name


def check(config: Mapping[str, Any], registry: Registry, installed: Collection[str]) -> list[str]:
    """Refuse an implementation a backend does not offer, and a misspelt variant in a
    per-variant choice; return a note for each variant named there that is not installed
    (a config may choose for a plugin's variant this environment lacks). The implementations
    of a backend that is not installed were set aside before, with the other per-backend
    settings."""
    notes = []
    for backend, wanted in config.get("implementations", {}).items():
        offered = implementations(registry.backends[backend])
        where = f"config: implementations.{backend}"
        named = [v for v in wanted if v != ALL] if isinstance(wanted, Mapping) else []
        for variant in [v for v in named if v not in installed]:
            names.refuse_typo(variant, installed, "variant", f"implementations.{backend}")
            notes.append(
                f"implementations.{backend}.{variant} left out: variant {variant!r} is not "
                f"installed (installed: {', '.join(sorted(installed))})"
            )
        for value in sorted({v for choice in _choices(wanted) for v in _listed(choice)}):
            if value not in offered:
                raise MnistbenchError(
                    f"{where}: backend {backend!r} has no implementation {value!r} "
                    f"(it offers: {', '.join(offered)})"
                )
    return notes


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
    kept = [v for v in _chosen(backend, variant, config, offered) if v in offered]
    return [p if v == default else {**p, SETTING: v} for p in found for v in kept]


def missing(
    variant: str, backend: str, config: Mapping[str, Any], registry: Registry
) -> tuple[list[str], str]:
    """The implementations the config asks of ``backend`` that it lacks for ``variant``, and
    the one line that says so ("" where none is missing)."""
    offered = implementations(registry.backends[backend], variant)
    lacking = [v for v in _chosen(backend, variant, config, offered) if v not in offered]
    if not lacking:
        return [], ""
    note = f"backend {backend!r} has no {' or '.join(map(repr, lacking))} implementation"
    note += f" of variant {variant!r}"
    return lacking, note + (f" (it has: {', '.join(offered)})" if offered else "")


def _chosen(
    backend: str, variant: str, config: Mapping[str, Any], offered: tuple[str, ...]
) -> list[str]:
    """The implementations the config asks of ``backend`` for ``variant``, or the first it
    offers."""
    wanted = config.get("implementations", {}).get(backend)
    if isinstance(wanted, Mapping):
        wanted = wanted.get(variant, wanted.get(ALL))
    return _listed(wanted) if wanted is not None else list(offered[:1])


def _choices(wanted: str | list[str] | Mapping[str, Any]) -> list[str | list[str]]:
    """A backend's entry as its choices: one, or one per variant it names."""
    return list(wanted.values()) if isinstance(wanted, Mapping) else [wanted]


def _listed(wanted: str | list[str]) -> list[str]:
    return [wanted] if isinstance(wanted, str) else list(wanted)
