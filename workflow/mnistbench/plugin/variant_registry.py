"""Discovering variants: the ``mnistbench.variants`` entry points, one variant each.

The five built-in variants arrive through this group exactly as a third party's would (see the
core's ``pyproject.toml``): the entry point's name is the variant's name and its value the
:class:`~mnistbench.variants.base.Variant` object, e.g. ``mlp = "mnistbench.variants.mlp:VARIANT"``.
Entry points load one at a time, so a broken variant plugin is named with its error and the
others still load, as with backends (:mod:`mnistbench.plugin.registry`).

A variant may ship implementations for backends (``Variant.steps``); a backend asks
:func:`variant_steps` which variants it can train that way, at the version of its step protocol
it speaks (``docs/step-protocol.md``), and imports one with :func:`step_module`; a backend that
writes some variants itself serves both through :func:`backend_variants` and :func:`variant_module`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from mnistbench import VARIANT_ENTRY_POINT_GROUP
from mnistbench.errors import MnistbenchError
from mnistbench.plan import identity, names
from mnistbench.plugin.registry import PluginFailure, one_line
from mnistbench.variants.base import Variant

log = logging.getLogger(__name__)


@dataclass
class VariantRegistry:
    """The variants found, by name in entry-point order, and the plugins that failed."""

    variants: dict[str, Variant] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    distributions: dict[str, str] = field(default_factory=dict)  # "name version", per variant
    modules: dict[str, str] = field(default_factory=dict)  # the module declaring each variant

    def fingerprint(self, name: str) -> str:
        """A digest of the code that declares variant ``name``: a built-in's module and the core
        modules it imports; a plugin's whole package, as a backend plugin's
        (:func:`mnistbench.plan.identity.plugin`). A change re-runs that variant's runs."""
        module = self.modules[name]
        top = module.partition(".")[0]
        if top == identity.CORE:
            files = identity.files_of(identity.closure(module))
            return "mnistbench sha256:" + identity.digest(files, identity.PACKAGE)[:16]
        return identity.plugin(importlib.import_module(top), self.distributions.get(name))

    def describe(self, implemented_by: dict[str, list[str]]) -> list[dict[str, Any]]:
        """One entry per variant and per failed plugin, for ``mnistbench variants --json``;
        ``implemented_by`` gives the backends that implement each variant."""
        entries = []
        for name, variant in self.variants.items():
            distribution, _, version = self.distributions.get(name, "").partition(" ")
            entries.append(
                {
                    "name": name,
                    "summary": variant.summary,
                    "distribution": distribution,
                    "distribution_version": version,
                    "input_layout": variant.input_layout,
                    "defaults": dict(variant.defaults),
                    "backends": sorted(implemented_by.get(name, [])),
                    "steps": [
                        {
                            "backend": s.backend,
                            "module": s.module,
                            "protocol": s.protocol,
                            "implementation": s.implementation,
                        }
                        for s in variant.steps
                    ],
                    "not_a_gradient": variant.not_a_gradient or None,
                }
            )
        for failure in self.failures:
            entries.append({"name": failure.plugin, "error": failure.error})
        return entries


def _refusal(entry_point: importlib.metadata.EntryPoint, found: object, taken) -> str | None:
    """Why the object an entry point names cannot be registered, or None."""
    if not isinstance(found, Variant):
        return f"{entry_point.value} is not a mnistbench Variant"
    if not names.is_name(found.name):
        rule = names.NAME_RULE
        return f"variant name {found.name!r} cannot name a results folder (allowed: {rule})"
    if found.name != entry_point.name:
        return f"entry point {entry_point.name!r} names variant {found.name!r}: name it the same"
    if found.name in taken:
        return f"variant name {found.name!r} is taken"
    return None


def collect_variants(entry_points: Iterable[importlib.metadata.EntryPoint]) -> VariantRegistry:
    """Load each entry point's variant, isolating failures: a plugin that raises on import or
    names something other than a well-named, new variant is a failure, the others load."""
    registry = VariantRegistry()
    for entry_point in entry_points:
        try:
            found = entry_point.load()
        except Exception as error:  # noqa: BLE001 - any import error of a plugin is reported
            registry.failures.append(PluginFailure(entry_point.name, one_line(error)))
            continue
        refusal = _refusal(entry_point, found, registry.variants)
        if refusal:
            registry.failures.append(PluginFailure(entry_point.name, refusal))
            continue
        registry.variants[found.name] = found
        registry.modules[found.name] = entry_point.module
        dist = entry_point.dist
        registry.distributions[found.name] = (
            f"{dist.name} {dist.version}" if dist is not None else entry_point.module
        )
    return registry


@functools.cache
def installed_variants() -> VariantRegistry:
    """Every installed variant, discovered once per process."""
    return collect_variants(importlib.metadata.entry_points(group=VARIANT_ENTRY_POINT_GROUP))


def variant_steps(backend: str, protocol: int, implementation: str = "tuned") -> dict[str, str]:
    """The variants that ship ``implementation`` for ``backend`` at step protocol ``protocol``:
    variant name -> the module to import. One written for another version is left out, and
    the log says so."""
    found = {}
    for name, variant in installed_variants().variants.items():
        for step in variant.steps:
            if step.backend != backend or step.implementation != implementation:
                continue
            if step.protocol == protocol:
                found[name] = step.module
            else:
                log.info(
                    "variant %r ships a %s step for protocol %d; %s speaks %d: left out",
                    name,
                    backend,
                    step.protocol,
                    backend,
                    protocol,
                )
    return found


def step_module(
    backend: str, variant: str, protocol: int, implementation: str = "tuned"
) -> ModuleType:
    """Import the step module ``variant`` ships for ``backend`` at ``protocol``, or raise a
    one-line error naming both."""
    module = variant_steps(backend, protocol, implementation).get(variant)
    if module is None:
        which = "" if implementation == "tuned" else f" as {implementation}"
        raise MnistbenchError(f"backend {backend!r} does not implement variant {variant!r}{which}")
    return importlib.import_module(module)


def backend_variants(backend: str, own: Iterable[str], protocol: int) -> frozenset[str]:
    """The variants ``backend`` trains: those it writes itself (``own``) and those variant plugins
    ship a step for at its ``protocol``."""
    return frozenset(own) | set(variant_steps(backend, protocol))


def variant_module(
    backend: str, variant: str, package: str, own: Collection[str], protocol: int
) -> ModuleType:
    """The module that implements ``variant`` for ``backend``: ``package.variant`` where the
    backend writes it itself (it is in ``own``), else the step module a variant plugin ships
    (:func:`step_module`). Imported when first used, not when listing backends."""
    if variant in own:
        return importlib.import_module(f"{package}.{variant}")
    return step_module(backend, variant, protocol)
