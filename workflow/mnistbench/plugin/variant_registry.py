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
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from mnistbench import VARIANT_ENTRY_POINT_GROUP
from mnistbench.errors import MnistbenchError
from mnistbench.plan import identity, names
from mnistbench.plugin.protocols import StepProtocol
from mnistbench.plugin.registry import PluginFailure, one_line
from mnistbench.variants.base import Variant


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


# backend -> (variant, implementation) -> why its step module was left out, as found so far
_LEFT_OUT: dict[str, dict[tuple[str, str], str]] = {}
# (module, backend, protocol version) -> what is wrong with the module, or None
_CHECKED: dict[tuple[str, str, int], str | None] = {}


def _version(protocol: int | StepProtocol) -> int:
    return protocol.version if isinstance(protocol, StepProtocol) else protocol


def _step_problem(module: str, protocol: int | StepProtocol) -> str | None:
    """What is wrong with step module ``module`` under ``protocol`` (a bare version number
    checks nothing), once per process: it cannot be imported, or lacks a required function."""
    if not isinstance(protocol, StepProtocol):
        return None
    key = (module, protocol.backend, protocol.version)
    if key not in _CHECKED:
        try:
            _CHECKED[key] = protocol.problem(importlib.import_module(module))
        except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the others
            _CHECKED[key] = f"{module} cannot be imported: {one_line(error)}"
    return _CHECKED[key]


def variant_steps(
    backend: str, protocol: int | StepProtocol, implementation: str = "tuned"
) -> dict[str, str]:
    """The variants that ship ``implementation`` for ``backend`` at its protocol: variant
    name -> the module to import. Given a :class:`StepProtocol`, each module is imported and
    checked here, once. A module written for another version, or that lacks a required
    function, is left out, and :func:`left_out` says why in one line."""
    found = {}
    for name, variant in installed_variants().variants.items():
        for step in variant.steps:
            if step.backend != backend or step.implementation != implementation:
                continue
            if step.protocol != _version(protocol):
                why = (
                    f"variant {name!r} ships a {backend} step for protocol {step.protocol}; "
                    f"{backend} speaks {_version(protocol)}: left out"
                )
            elif problem := _step_problem(step.module, protocol):
                why = f"variant {name!r} left out of backend {backend!r}: {problem}"
            else:
                found[name] = step.module
                continue
            _LEFT_OUT.setdefault(backend, {})[(name, implementation)] = why
    return found


def left_out(backend: str) -> list[str]:
    """Why each variant plugin's step for ``backend`` was left out, one line each, as found when
    the backend last listed its variants: for the user to see (planning and ``mnistbench
    backends`` print them as warnings)."""
    return list(_LEFT_OUT.get(backend, {}).values())


def step_module(
    backend: str, variant: str, protocol: int | StepProtocol, implementation: str = "tuned"
) -> ModuleType:
    """Import the step module ``variant`` ships for ``backend`` at ``protocol``, or raise a
    one-line error naming both (and what is wrong with the module)."""
    module = variant_steps(backend, protocol, implementation).get(variant)
    if module is None:
        why = _LEFT_OUT.get(backend, {}).get((variant, implementation))
        which = "" if implementation == "tuned" else f" as {implementation}"
        raise MnistbenchError(
            why or f"backend {backend!r} does not implement variant {variant!r}{which}"
        )
    return importlib.import_module(module)


def backend_variants(
    backend: str, own: Iterable[str], protocol: int | StepProtocol
) -> frozenset[str]:
    """The variants ``backend`` trains: those it writes itself (``own``) and those variant plugins
    ship a step for at its ``protocol``. Give the :class:`StepProtocol` (not a bare version) to
    have each plugin's step module checked for the functions it must define."""
    return frozenset(own) | set(variant_steps(backend, protocol))


def variant_module(
    backend: str, variant: str, package: str, own: Collection[str], protocol: int | StepProtocol
) -> ModuleType:
    """The module that implements ``variant`` for ``backend``: ``package.variant`` where the
    backend writes it itself (it is in ``own``), else the step module a variant plugin ships
    (:func:`step_module`). Imported when first used, not when listing backends; given a
    :class:`StepProtocol`, a module that lacks a required function is a one-line error."""
    if variant not in own:
        return step_module(backend, variant, protocol)
    module = importlib.import_module(f"{package}.{variant}")
    if isinstance(protocol, StepProtocol) and (problem := protocol.problem(module)):
        raise MnistbenchError(f"backend {backend!r} cannot train variant {variant!r}: {problem}")
    return module
