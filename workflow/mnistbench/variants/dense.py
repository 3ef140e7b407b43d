"""Networks of dense layers, ``x @ W (+ b)``: their sizes, weight shapes and initial weights.

Four built-in variants are one hidden layer between the data's pixels and its classes; they
differ in whether the layers have biases and how the weights are drawn. The core draws every
weight from its own generator in the order of :func:`dense_shapes` (W1 before W2), so the same
seed gives the same weights on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.data.shapes import MNIST, Shape


def hidden_layer_sizes(hp: Mapping[str, Any], shape: Shape = MNIST) -> list[int]:
    """[pixels, hidden, classes]: one hidden layer of ``hp["hidden"]`` units, sized by the data."""
    return [shape.pixels, int(hp["hidden"]), shape.classes]


def dense_shapes(sizes: list[int], biases: bool = True) -> dict[str, tuple[int, ...]]:
    """W1 (sizes[0], sizes[1]), b1 (sizes[1],), W2, ...: the layers between ``sizes``, in order,
    with or without biases (:func:`fan_in_normal_layers` makes them with)."""
    shapes = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        shapes[f"W{i}"] = (n_in, n_out)
        if biases:
            shapes[f"b{i}"] = (n_out,)
    return shapes


def hidden_layer_shapes(hp: Mapping[str, Any], shape: Shape = MNIST) -> dict[str, tuple[int, ...]]:
    """W1, b1, W2, b2 of :func:`hidden_layer_sizes`."""
    return dense_shapes(hidden_layer_sizes(hp, shape))


def unbiased_hidden_layer_shapes(
    hp: Mapping[str, Any], shape: Shape = MNIST
) -> dict[str, tuple[int, ...]]:
    """W1 and W2 of :func:`hidden_layer_sizes`, no biases."""
    return dense_shapes(hidden_layer_sizes(hp, shape), biases=False)


def fan_in_normal_layers(rng: np.random.Generator, sizes: list[int]) -> dict[str, np.ndarray]:
    """Dense layers for ``x @ W + b``: W_i ~ N(0, 1) / sqrt(fan_in), b_i = 0, float32."""
    weights = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        weights[f"W{i}"] = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        weights[f"b{i}"] = np.zeros(n_out, np.float32)
    return weights
