"""Discovering backends: one pluggy manager, fed from the ``mnistbench.backends`` entry points.

Built-in backends arrive through the same entry-point group as a third party's, so every run
exercises the path that a plugin author relies on.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pluggy

from mnistbench import ENTRY_POINT_GROUP, PROJECT_NAME
from mnistbench.errors import MnistbenchError
from mnistbench.plan import identity, names
from mnistbench.plugin import hookspecs, protocols
from mnistbench.plugin.backend import Backend, implementations


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or whose hook raised, with the error as one line."""

    plugin: str
    error: str


@dataclass
class Registry:
    """The backends found, by name, and the plugins that failed to provide theirs."""

    backends: dict[str, Backend] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    # Per backend: its framework version, the distribution that provides it and a digest of the
    # plugin's source (see mnistbench.plan.identity); a change re-runs that backend's runs.
    fingerprints: dict[str, str] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)  # "name version", per backend

    def get(self, name: str) -> Backend:
        """Return the available backend ``name`` or raise a one-line error saying why not."""
        for failure in self.failures:
            if failure.plugin == name:
                raise MnistbenchError(f"backend {name!r} failed to load: {failure.error}")
        if name not in self.backends:
            known = ", ".join(sorted(self.backends)) or "none"
            raise MnistbenchError(f"backend {name!r} is not installed (installed: {known})")
        backend = self.backends[name]
        reason = backend.unavailable_reason()
        if reason:
            raise MnistbenchError(f"backend {name!r} is not available here: {reason}")
        return backend

    def available(self) -> list[str]:
        """Names of the backends that can run here, sorted."""
        return sorted(n for n, b in self.backends.items() if b.unavailable_reason() is None)

    def describe(self) -> list[dict[str, Any]]:
        """One entry per backend and per failed plugin, for ``mnistbench backends --json``;
        ``left_out`` says why each variant plugin's step module for the backend was left out."""
        from mnistbench.plugin.variant_registry import left_out  # it imports this module

        entries = []
        for name, backend in sorted(self.backends.items()):
            reason = backend.unavailable_reason()
            distribution, _, distribution_version = self.distributions.get(name, "").partition(" ")
            entries.append(
                {
                    "name": name,
                    "framework_version": backend.version,
                    "distribution": distribution,
                    "distribution_version": distribution_version,
                    "available": reason is None,
                    "unavailable_reason": reason,
                    "devices": backend.devices() if reason is None else [],
                    "variants": sorted(backend.variants),
                    "implementations": list(implementations(backend)),
                    # per variant, those it has (a backend runs only what a variant has for it)
                    "variant_implementations": {
                        v: list(implementations(backend, v)) for v in sorted(backend.variants)
                    },
                    "left_out": left_out(name),
                }
            )
        for failure in self.failures:
            entries.append({"name": failure.plugin, "available": False, "error": failure.error})
        return entries


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _availability_error(backend: Backend) -> str | None:
    """Why asking ``backend`` whether it can run raised, or None: such a backend is a failed
    plugin, so planning a run never meets the exception."""
    try:
        backend.unavailable_reason()
    except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the others
        return f"backend {backend.name!r}: unavailable_reason() raised {one_line(error)}"
    return None


@contextmanager
def backend_errors(backend: str, call: str) -> Iterator[None]:
    """Turn any exception raised by backend code into one line naming the backend.

    The original exception stays attached as the cause, so the step's log keeps its traceback.
    """
    try:
        yield
    except MnistbenchError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever a plugin raises is reported, not a crash
        message = f"backend {backend!r} failed in {call}: {one_line(error)}"
        raise MnistbenchError(message) from error


def get_plugin_manager() -> tuple[pluggy.PluginManager, list[PluginFailure]]:
    """Build the plugin manager: hook specs, then each entry point of the group.

    Entry points load one at a time, so a broken plugin is reported by name and the others
    still load (pluggy's loader would stop at the first failure).
    """
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    failures = []
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=entry_point.name)
        except Exception as error:  # noqa: BLE001 - any import error of a plugin is reported
            failures.append(PluginFailure(entry_point.name, one_line(error)))
            continue
        incompatible = _incompatible(manager.get_plugin(entry_point.name))
        if incompatible:
            manager.unregister(name=entry_point.name)
            failures.append(PluginFailure(entry_point.name, incompatible))
    manager.check_pending()
    return manager, failures


def _incompatible(plugin: object) -> str | None:
    """Why ``plugin`` was built for another hook version than this mnistbench's, or states
    none, or None."""
    wanted = getattr(plugin, "MNISTBENCH_HOOK_VERSION", None)
    if wanted == hookspecs.HOOK_VERSION:
        return None
    if wanted is None:
        module = getattr(plugin, "__name__", type(plugin).__name__)
        return (
            f"{module} declares no MNISTBENCH_HOOK_VERSION: this mnistbench provides hook "
            f"version {hookspecs.HOOK_VERSION}; add MNISTBENCH_HOOK_VERSION = "
            f"{hookspecs.HOOK_VERSION} to {module} once it implements that version"
        )
    return (
        f"built for mnistbench hook version {wanted}; this mnistbench provides version "
        f"{hookspecs.HOOK_VERSION}"
    )


def collect_backends(manager: pluggy.PluginManager, failures=()) -> Registry:
    """Call every plugin's ``mnistbench_register_backends`` hook, isolating failures."""
    registry = Registry(failures=list(failures))
    distributions = {
        id(plugin): f"{dist.project_name} {dist.version}"
        for plugin, dist in manager.list_plugin_distinfo()
    }
    for impl in manager.hook.mnistbench_register_backends.get_hookimpls():
        try:
            provided = impl.function() or []
        except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the others
            registry.failures.append(PluginFailure(impl.plugin_name, one_line(error)))
            continue
        for backend in provided:
            if (unfit := protocols.backend_problem(backend)) is not None:
                registry.failures.append(PluginFailure(impl.plugin_name, unfit))
            elif not names.is_name(backend.name):
                registry.failures.append(
                    PluginFailure(
                        impl.plugin_name,
                        f"backend name {backend.name!r} cannot name a results folder "
                        f"(allowed: {names.NAME_RULE})",
                    )
                )
            elif (broken := _availability_error(backend)) is not None:
                registry.failures.append(PluginFailure(impl.plugin_name, broken))
            elif backend.name in registry.backends:
                registry.failures.append(
                    PluginFailure(impl.plugin_name, f"backend name {backend.name!r} is taken")
                )
            else:
                registry.backends[backend.name] = backend
                distribution = distributions.get(id(impl.plugin))
                registry.distributions[backend.name] = distribution or impl.plugin_name
                plugin = identity.plugin(impl.plugin, distribution)
                registry.fingerprints[backend.name] = f"{backend.name} {backend.version}; {plugin}"
    return registry


def load_backends() -> Registry:
    """Discover every installed backend plugin."""
    return collect_backends(*get_plugin_manager())
