"""The model variants: what the core fixes for each, so that every backend runs the same thing.

A variant module defines, for one network from the source notebooks, its default hyperparameters
and three functions of the core's own random streams: input scaling, initial weights and the
training plan (sample order, batch size, random masks). Backends implement only the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mnistbench.errors import MnistbenchError
from mnistbench.variants import dropout_mlp, mlp, mnn, predictive_coding, sigmoid_mlp
from mnistbench.variants.base import Plan, Variant, flatten_scaled, random_streams

VARIANTS: Mapping[str, Variant] = MappingProxyType(
    {
        v.name: v
        for v in (
            mlp.VARIANT,
            sigmoid_mlp.VARIANT,
            dropout_mlp.VARIANT,
            mnn.VARIANT,
            predictive_coding.VARIANT,
        )
    }
)


def get_variant(name: str) -> Variant:
    """Return the variant ``name`` or raise a one-line error listing the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise MnistbenchError(
            f"unknown variant {name!r} (known: {', '.join(sorted(VARIANTS))})"
        ) from None


__all__ = ["VARIANTS", "Plan", "Variant", "flatten_scaled", "get_variant", "random_streams"]
