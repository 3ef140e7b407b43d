"""The model variants: what the core fixes for each, so that every backend runs the same thing.

A variant module declares, once, one network: its defaults, input scaling, initial weights,
training plan, float64 reference arithmetic, cost and contract (:class:`Variant`). Variants
arrive through the ``mnistbench.variants`` entry-point group, the five built-in ones included
(see ``pyproject.toml``), exactly as a third party's would: :data:`VARIANTS` is every variant
installed, discovered on first use (:func:`mnistbench.plugin.variant_registry.installed_variants`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from mnistbench.errors import MnistbenchError
from mnistbench.variants.base import Plan, Variant, flatten_scaled, random_streams


class _Installed(Mapping[str, Variant]):
    """Every installed variant by name, in the order the entry points list them; read from
    the entry points the first time it is used, so importing this package loads no plugin."""

    def __getitem__(self, name: str) -> Variant:
        return _registry().variants[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_registry().variants)

    def __len__(self) -> int:
        return len(_registry().variants)

    def __repr__(self) -> str:
        return f"VARIANTS({', '.join(self)})"


def _registry():
    from mnistbench.plugin.variant_registry import installed_variants

    return installed_variants()


VARIANTS: Mapping[str, Variant] = _Installed()


def get_variant(name: str) -> Variant:
    """Return the variant ``name`` or raise a one-line error: why its plugin failed to load, or
    the known ones."""
    registry = _registry()
    for failure in registry.failures:
        if failure.plugin == name:
            raise MnistbenchError(f"variant {name!r} failed to load: {failure.error}")
    try:
        return registry.variants[name]
    except KeyError:
        raise MnistbenchError(
            f"unknown variant {name!r} (known: {', '.join(sorted(registry.variants))})"
        ) from None


__all__ = ["VARIANTS", "Plan", "Variant", "flatten_scaled", "get_variant", "random_streams"]
