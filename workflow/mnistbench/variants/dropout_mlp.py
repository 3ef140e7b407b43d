"""``dropout_mlp``: the 784-40-10 dropout network of source notebook ``001_5340782962217d25.txt``.

Source notebook: ReLU hidden layer with a dropout mask (keep 0.5, kept units scaled by 2) while
training, linear output, squared error to the one-hot target, per-sample SGD at 0.005, weights
``U(-0.1, 0.1)``, no biases, inputs / 255, the first 1,000 training images, 100 passes in file
order. Reported: 0.7942 test accuracy.

Bug fixed from the source notebook: ``relu2deriv = (x >= 0)`` is 1 everywhere on a ReLU output, so
the notebook's hidden gradient ignored the ReLU; here it is ``(h > 0)`` on the pre-activation. The
loss is ``1/2 sum_k (out_k - onehot_k)^2`` per sample, whose gradient is the notebook's update
direction.
The core draws the dropout masks, so every backend drops the same units at the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.data.shapes import MNIST, Shape
from mnistbench.variants.base import (
    Contract,
    PerEpoch,
    Plan,
    Variant,
    file_order_plan,
    file_order_plan_bytes,
    unit_pixels,
)
from mnistbench.variants.dense import unbiased_hidden_layer_shapes
from mnistbench.variants.float64 import SGD, one_hot, relu
from mnistbench.variants.parts import Cost, Reference

DEFAULTS = {
    "hidden": 40,
    "lr": 0.005,
    "train_samples": 1000,
    "epochs": 100,
    "keep": 0.5,
}


def initial_weights(
    rng: np.random.Generator, hp: Mapping[str, Any], shape: Shape = MNIST
) -> dict[str, np.ndarray]:
    """W ~ U(-0.1, 0.1), no biases, laid out for ``x @ W``."""
    return {
        name: rng.uniform(-0.1, 0.1, size).astype(np.float32)
        for name, size in unbiased_hidden_layer_shapes(hp, shape).items()
    }


def plan(
    order_rng: np.random.Generator,
    mask_rng: np.random.Generator,
    n_train: int,
    hp: Mapping[str, Any],
) -> Plan:
    """One sample per step, the first ``train_samples`` in file order, with a mask per step.

    Masks hold ``1 / keep`` for kept units and 0 for dropped ones, shape (samples, hidden).
    """
    samples = min(int(hp["train_samples"]), n_train)
    keep, n_epochs, shape = float(hp["keep"]), int(hp["epochs"]), (samples, int(hp["hidden"]))

    def epoch_masks(rng: np.random.Generator) -> np.ndarray:
        return ((rng.random(shape) < keep) / keep).astype(np.float32)

    masks = PerEpoch(n_epochs, int(mask_rng.integers(2**63)), epoch_masks)
    return file_order_plan(samples, n_epochs, batch_size=1, extras={"dropout_masks": masks})


def plan_bytes(hp: Mapping[str, Any], n_train: int) -> int:
    """One order shared by every epoch, and one epoch's float32 masks at a time."""
    samples = min(int(hp["train_samples"]), n_train)
    return file_order_plan_bytes(samples, int(hp["epochs"])) + 4 * samples * int(hp["hidden"])


def samples_visited(hp: Mapping[str, Any], n_train: int) -> int:
    """Its first ``train_samples`` images each epoch, however large the training set."""
    return int(hp["epochs"]) * min(int(hp["train_samples"]), n_train)


def reference_loss(w, x, y, hp, extras):
    """(relu(x W1) * mask) W2, half the squared error to the one-hot target; float64."""
    mask = extras["dropout_masks"]
    h = x @ w["W1"]
    a = relu(h) * mask
    err = a @ w["W2"] - one_hot(y, w["W2"].shape[1])
    loss = float(0.5 * np.sum(err**2) / len(x))
    d_out = err / len(x)
    dh = (d_out @ w["W2"].T) * mask * (h > 0)
    return loss, {"W1": x.T @ dh, "W2": a.T @ d_out}


def reference_predict(w, x, hp):
    """The outputs without dropout, float64."""
    return relu(x @ w["W1"]) @ w["W2"]


CONTRACT = Contract(
    forward=(
        "a = relu(x @ W1) * mask  (B, hidden), with the core's mask (0 or 1/keep, "
        "extras['dropout_masks'], one row per sample visited); out = a @ W2  (B, 10); no biases, "
        "no output activation"
    ),
    loss="1/2 sum_k (out_k - onehot_k)^2 per sample, mean over the batch (batch_size is 1)",
    update=(
        "plain SGD: w -= lr * d loss / d w, for W1, W2; the hidden gradient passes only where the"
        " ReLU was active and the mask kept the unit"
    ),
    predict="the outputs without dropout, relu(x @ W1) @ W2 (N, 10)",
    hyperparameters={
        "hidden": "hidden units (source notebook: 40)",
        "lr": "per-sample SGD learning rate (source notebook: 0.005)",
        "train_samples": "train on the first N training images only (source notebook: 1000)",
        "epochs": "passes over those images (source notebook: 100)",
        "keep": "probability of keeping a hidden unit while training, (0, 1] "
        "(source notebook: 0.5)",
    },
)


VARIANT = Variant(
    name="dropout_mlp",
    seed_notebook="001_5340782962217d25.txt",
    summary="784-40-10 ReLU MLP with dropout (keep 0.5), linear output, squared error, "
    "per-sample SGD 0.005, first 1,000 images, 100 passes",
    seed_fix="relu2deriv(x >= 0) on the ReLU output was 1 everywhere: the hidden gradient now "
    "passes only where the unit was active",
    seed_accuracy=0.7942,
    defaults=DEFAULTS,
    prepare_inputs=unit_pixels,
    initial_weights=initial_weights,
    sized_by_data=True,
    contract=CONTRACT,
    plan=plan,
    weight_shapes=unbiased_hidden_layer_shapes,
    plan_bytes=plan_bytes,
    small={"train_samples": 12, "epochs": 2},
    upper_limits={"keep": 1.0},
    reference=Reference(reference_loss, reference_predict, SGD),
    cost=Cost(0.076 / 1_000, samples_visited),  # one sample per step: 76 us each
)
