"""``mlp``: the 784-300-10 ReLU network of source notebook ``004_390e6385c68b6179.txt``.

Source notebook: biases, ReLU hidden layer, softmax + cross-entropy, plain SGD at lr 0.1 on batches
of 8 taken in order (no shuffling), 20 epochs, weights ``randn / sqrt(fan_in)``, biases zero, inputs
/ 255. Reported: NumPy 0.9829 test accuracy.

Bug fixed from the source notebook: the notebook's PyTorch twin applies ``nn.Softmax(dim=0)`` (over
the batch) before ``CrossEntropyLoss``, which applies its own log-softmax; here every backend takes
cross-entropy of the raw logits, softmax over the classes, as the notebook's NumPy version does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.data.shapes import MNIST, Shape
from mnistbench.variants.base import (
    Contract,
    Plan,
    Variant,
    file_order_plan,
    file_order_plan_bytes,
    unit_pixels,
)
from mnistbench.variants.dense import fan_in_normal_layers, hidden_layer_shapes, hidden_layer_sizes
from mnistbench.variants.float64 import SGD, cross_entropy, relu
from mnistbench.variants.parts import Cost, Reference

DEFAULTS = {
    "hidden": 300,
    "lr": 0.1,
    "batch_size": 8,
    "epochs": 20,
}


def initial_weights(
    rng: np.random.Generator, hp: Mapping[str, Any], shape: Shape = MNIST
) -> dict[str, np.ndarray]:
    """W ~ N(0, 1) / sqrt(fan_in), b = 0, laid out for ``x @ W + b``."""
    return fan_in_normal_layers(rng, hidden_layer_sizes(hp, shape))


def plan(
    order_rng: np.random.Generator,
    mask_rng: np.random.Generator,
    n_train: int,
    hp: Mapping[str, Any],
) -> Plan:
    """Every epoch visits the training set in file order, as the notebook does."""
    return file_order_plan(n_train, int(hp["epochs"]), int(hp["batch_size"]))


def plan_bytes(hp: Mapping[str, Any], n_train: int) -> int:
    """One order shared by every epoch, and a reference to it per epoch."""
    return file_order_plan_bytes(n_train, int(hp["epochs"]))


def reference_loss(w, x, y, hp, extras):
    """relu(x W1 + b1) W2 + b2, cross-entropy of the logits; float64."""
    h = x @ w["W1"] + w["b1"]
    a = relu(h)
    loss, dz = cross_entropy(a @ w["W2"] + w["b2"], y)
    dh = (dz @ w["W2"].T) * (h > 0)
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": a.T @ dz, "b2": dz.sum(0)}


def reference_predict(w, x, hp):
    """The logits, float64."""
    return relu(x @ w["W1"] + w["b1"]) @ w["W2"] + w["b2"]


CONTRACT = Contract(
    forward="h = relu(x @ W1 + b1)  (B, hidden); logits = h @ W2 + b2  (B, 10)",
    loss=(
        "cross-entropy of softmax(logits) over the 10 classes against the labels, mean over the "
        "batch"
    ),
    update="plain SGD: w -= lr * d loss / d w, for W1, b1, W2, b2",
    predict="the logits (N, 10)",
    hyperparameters={
        "hidden": "hidden units",
        "lr": "SGD learning rate",
        "batch_size": "samples per step",
        "epochs": "passes over the training set",
    },
)


VARIANT = Variant(
    name="mlp",
    seed_notebook="004_390e6385c68b6179.txt",
    summary="784-300-10 ReLU MLP, softmax cross-entropy, SGD lr 0.1, batch 8, 20 epochs",
    seed_fix="PyTorch twin's Softmax(dim=0) before CrossEntropyLoss: logits go straight in",
    seed_accuracy=0.9829,
    defaults=DEFAULTS,
    prepare_inputs=unit_pixels,
    initial_weights=initial_weights,
    sized_by_data=True,
    contract=CONTRACT,
    plan=plan,
    weight_shapes=hidden_layer_shapes,
    plan_bytes=plan_bytes,
    small={"epochs": 2},
    reference=Reference(reference_loss, reference_predict, SGD),
    # batch-8 steps pay per-step overhead: 2.6 s per epoch of 60,000 (bench/speed.py)
    cost=Cost(2.6 / 60_000),
)
