"""``sigmoid_mlp``: the 784-128-10 sigmoid network of source notebook ``003_361637ee1fcf5944.txt``.

Source notebook: sigmoid hidden layer, softmax output, no biases, squared error of the softmax
output against the one-hot target, plain SGD at lr 0.001 on batches of 128 drawn with replacement,
10,000 iterations, raw 0..255 inputs, weights ``U(-1, 1) / sqrt(fan_in * fan_out)``. Reported:
0.8383 test accuracy.

Bugs fixed from the source notebook:
- its softmax normalises over the batch axis (``axis=0``, with one max over the whole array);
  here the softmax is over the classes of each sample.
- its loss gradient keeps only the diagonal of the softmax Jacobian (``2(out-t)/N * s(1-s)``);
  here the loss is the same, ``mean over the batch of sum_k (softmax_k - onehot_k)^2``, with its
  exact gradient (which a finite-difference check confirms).
The notebook held out 10,000 training images for validation; they only served to print progress,
so here batches are drawn from the whole training set. History rows come every ``log_every``
iterations (an "epoch" of this variant).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.data.shapes import MNIST, Shape
from mnistbench.variants.base import Contract, Plan, Variant, flatten_scaled
from mnistbench.variants.dense import unbiased_hidden_layer_shapes
from mnistbench.variants.float64 import SGD, one_hot, softmax
from mnistbench.variants.parts import Cost, Reference

DEFAULTS = {
    "hidden": 128,
    "lr": 0.001,
    "batch_size": 128,
    "iterations": 10000,
    "log_every": 500,
}


def prepare_inputs(images: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Raw pixel values, 0..255, flattened to (N, 784) float32, as the notebook feeds them."""
    return flatten_scaled(images, scale=1.0)


def initial_weights(
    rng: np.random.Generator, hp: Mapping[str, Any], shape: Shape = MNIST
) -> dict[str, np.ndarray]:
    """W ~ U(-1, 1) / sqrt(fan_in * fan_out), no biases, laid out for ``x @ W``."""
    return {
        name: (rng.uniform(-1, 1, (rows, cols)) / np.sqrt(rows * cols)).astype(np.float32)
        for name, (rows, cols) in unbiased_hidden_layer_shapes(hp, shape).items()
    }


def plan(
    order_rng: np.random.Generator,
    mask_rng: np.random.Generator,
    n_train: int,
    hp: Mapping[str, Any],
) -> Plan:
    """Every iteration draws ``batch_size`` samples with replacement, as the notebook does."""
    batch, total, per_row = int(hp["batch_size"]), int(hp["iterations"]), int(hp["log_every"])
    chunks = [min(per_row, total - start) for start in range(0, total, per_row)]
    epochs = [
        order_rng.integers(0, n_train, size=steps * batch, dtype=np.int64) for steps in chunks
    ]
    return Plan(epochs=epochs, batch_size=batch)


def plan_bytes(hp: Mapping[str, Any], n_train: int) -> int:
    """``batch_size`` int64 indices per iteration."""
    return 8 * int(hp["iterations"]) * int(hp["batch_size"])


def samples_visited(hp: Mapping[str, Any], n_train: int) -> int:
    """``batch_size`` samples per iteration, whatever the training set's size."""
    return int(hp["iterations"]) * int(hp["batch_size"])


def reference_loss(w, x, y, hp, extras):
    """softmax(sigmoid(x W1) W2), squared error to the one-hot target summed over classes."""
    a = 1 / (1 + np.exp(-(x @ w["W1"])))
    p = softmax(a @ w["W2"])
    err = p - one_hot(y, w["W2"].shape[1])
    loss = float(np.mean(np.sum(err**2, axis=1)))
    dp = 2 * err / len(x)
    # the softmax Jacobian of each sample, in full: d p_i / d z_j = p_i (delta_ij - p_j)
    jacobian = np.einsum("bi,ij->bij", p, np.eye(p.shape[1])) - np.einsum("bi,bj->bij", p, p)
    dz = np.einsum("bij,bi->bj", jacobian, dp)
    dh = (dz @ w["W2"].T) * a * (1 - a)
    return loss, {"W1": x.T @ dh, "W2": a.T @ dz}


def reference_predict(w, x, hp):
    """The probabilities, float64."""
    return softmax((1 / (1 + np.exp(-(x @ w["W1"])))) @ w["W2"])


CONTRACT = Contract(
    forward=(
        "a = sigmoid(x @ W1)  (B, hidden); p = softmax(a @ W2) over each sample's 10 classes  (B,"
        " 10); no biases"
    ),
    loss=(
        "squared error sum_k (p_k - onehot_k)^2 per sample, mean over the batch (its gradient "
        "goes through the full softmax Jacobian)"
    ),
    update="plain SGD: w -= lr * d loss / d w, for W1, W2",
    predict="the probabilities p (N, 10)",
    hyperparameters={
        "hidden": "hidden units (source notebook: 128)",
        "lr": "SGD learning rate (source notebook: 0.001)",
        "batch_size": "samples per iteration, drawn with replacement (source notebook: 128)",
        "iterations": "SGD steps in all (source notebook: 10000)",
        "log_every": "iterations per history row; only changes what is logged",
    },
)


VARIANT = Variant(
    name="sigmoid_mlp",
    seed_notebook="003_361637ee1fcf5944.txt",
    summary="784-128-10 sigmoid MLP, softmax + squared error, SGD lr 0.001, batch 128 with "
    "replacement, 10,000 iterations, raw 0..255 inputs",
    seed_fix="softmax over the batch axis: now over classes; diagonal-only softmax Jacobian: "
    "now the exact gradient of the same loss",
    seed_accuracy=0.8383,
    defaults=DEFAULTS,
    prepare_inputs=prepare_inputs,
    initial_weights=initial_weights,
    sized_by_data=True,
    contract=CONTRACT,
    plan=plan,
    weight_shapes=unbiased_hidden_layer_shapes,
    plan_bytes=plan_bytes,
    small={"batch_size": 8, "iterations": 24, "log_every": 12},
    reference=Reference(reference_loss, reference_predict, SGD),
    cost=Cost(0.33 / (500 * 128), samples_visited),  # 0.33 s per 500 steps of 128
)
