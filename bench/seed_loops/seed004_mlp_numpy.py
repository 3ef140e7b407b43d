"""Seed 004 (``004_390e6385c68b6179.txt``), NumPy: cell [6]'s ``NN.train`` loop for ``mlp``.

As the notebook: float32 inputs / 255 (cell [5]), one-hot labels from ``np.eye`` (float64), and
float64 weights and biases (``np.random.randn``), so every step converts the float32 batch and
multiplies in float64 (about twice the time of the same loop with float32 weights); batches are
slices in file order; each step computes the batch's cross-entropy, then ``backward`` with the
notebook's temporaries (``reludx`` overwrites ``x1`` in place) and the
``self.w1 += -self.lr * dw1`` updates.

Departures: the initial weights are the core's (the same numbers the backends start from, in the
notebook's float64), and the full test- and training-set scoring the notebook prints after each
epoch is left out. No bug to fix: this is the variant's own math.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mnistbench.plugin.backend import TrainSpec


def relu(x):
    return np.maximum(x, 0)


def reludx(x):
    x[x <= 0] = 0
    x[x > 0] = 1
    return x


def softmax(x):
    exp_scores = np.exp(x)
    return exp_scores / np.sum(exp_scores, axis=1, keepdims=True)


def cross_entropy_loss(predicted, actual):
    return np.mean(-np.sum(actual * np.log(predicted), axis=1))


class NN:
    """The notebook's class, less its own initialisation and printing."""

    def __init__(self, weights, lr, batch_size):
        self.w1 = np.asarray(weights["W1"], np.float64).copy()
        self.b1 = np.asarray(weights["b1"], np.float64).reshape(1, -1).copy()
        self.w2 = np.asarray(weights["W2"], np.float64).copy()
        self.b2 = np.asarray(weights["b2"], np.float64).reshape(1, -1).copy()
        self.lr = lr
        self.batch_size = batch_size

    def forward(self, x):
        self.x1 = np.dot(x, self.w1) + self.b1
        self.fc = relu(self.x1)
        self.x2 = np.dot(self.fc, self.w2) + self.b2
        self.out = softmax(self.x2)
        return self.out

    def backward(self, x, y):
        dx2 = (self.out - y) / self.out.shape[0]
        dx1 = np.dot(dx2, self.w2.T) * reludx(self.x1)
        dw2 = np.dot(self.fc.T, dx2)
        dw1 = np.dot(x.T, dx1)
        db2 = np.sum(dx2, axis=0, keepdims=True)
        db1 = np.sum(dx1, axis=0, keepdims=True)
        self.w1 += -self.lr * dw1
        self.b1 += -self.lr * db1
        self.w2 += -self.lr * dw2
        self.b2 += -self.lr * db2


def check_file_order(order: np.ndarray) -> None:
    if not np.array_equal(order, np.arange(len(order))):
        raise ValueError("the seed takes its batches in file order")


def prepare(spec: TrainSpec) -> Callable[[int], float]:
    train_images = spec.x_train  # float32, / 255, as cell [5]
    train_labels = np.eye(10)[spec.y_train]  # float64 one-hot, as cell [5]
    network = NN(spec.initial_weights, float(spec.hyperparameters["lr"]), spec.batch_size)

    def run_epoch(epoch: int) -> float:
        order = spec.epochs[epoch]
        check_file_order(order)
        first = None
        i = 0
        while i < len(order):
            train_batch = train_images[i : i + network.batch_size]
            labels_batch = train_labels[i : i + network.batch_size]
            output = network.forward(train_batch)
            error = cross_entropy_loss(output, labels_batch)
            network.backward(train_batch, labels_batch)
            i += network.batch_size
            first = error if first is None else first
        return float(first)

    return run_epoch
