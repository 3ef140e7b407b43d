"""``lenet``: LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), declared once for every backend.

    C1 conv 5x5, 6 maps, padding 2   (B, 1, 28, 28) -> (B, 6, 28, 28), then f
    S2 average 2x2                                   -> (B, 6, 14, 14)
    C3 conv 5x5, 16 maps              -> (B, 16, 10, 10), then f
    S4 average 2x2                    -> (B, 16, 5, 5), flattened (channel, row, column) -> (B, 400)
    C5 dense 400 -> 120, then f;  F6 dense 120 -> 84, then f;  output dense 84 -> 10 (logits)

Taken from the paper: the layer sizes, 5x5 kernels, subsampling by 2x2 averages, and its
activation, the scaled tanh ``f(a) = 1.7159 tanh(2a/3)``. The 28x28 digits are padded by 2 to the
paper's 32x32 field. Departures, each for a simpler network with the same shape: S2 and S4 average
without the paper's trainable coefficient and bias; C3 sees all 6 maps of S2 (the paper's table
connects each C3 map to 3, 4 or 6 of them, to break symmetry and save computation); the output is
a dense layer scored by softmax cross-entropy, not the paper's Euclidean RBF units and MAP loss;
training is plain mini-batch SGD, not its stochastic diagonal Levenberg-Marquardt; inputs are
standardised with MNIST's mean and std rather than mapped to [-0.1, 1.175].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.variants.base import Contract, Variant, shuffled_plan, shuffled_plan_bytes
from mnistbench.variants.float64 import SGD
from mnistbench.variants.parts import Cost, Reference, StepModule
from mnistbench_lenet import reference

MEAN, STD = 0.1307, 0.3081  # MNIST pixel mean and std on the [0, 1] scale
SIDE = 28  # the image side the dense layers are sized for (the core checks the data's shape)
KERNEL, PAD = 5, 2
MAPS = (6, 16)  # C1 and C3
DENSE = (120, 84)  # C5 and F6
CLASSES = 10

DEFAULTS = {
    "lr": 0.1,
    "batch_size": 32,
    "epochs": 10,
}


def flat_features(side: int = SIDE) -> int:
    """Inputs of C5: 16 maps of S4, each ((side + 2 PAD - 4) / 2 - 4) / 2 square: 400 at 28."""
    s4 = ((side + 2 * PAD - (KERNEL - 1)) // 2 - (KERNEL - 1)) // 2
    return MAPS[1] * s4 * s4


def prepare_inputs(images: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """(pixels / 255 - 0.1307) / 0.3081 as images with one channel: (N, 1, 28, 28) float32."""
    x = images.astype(np.float32)[:, None]
    x *= np.float32(1 / 255)
    x -= np.float32(MEAN)
    x /= np.float32(STD)
    return x


def weight_shapes(hp: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Convolutions (out, in, kh, kw) for ``conv(x, W)``; dense layers (in, out) for ``x @ W``."""
    sizes = [flat_features(), *DENSE, CLASSES]
    shapes = {"W1": (MAPS[0], 1, KERNEL, KERNEL), "b1": (MAPS[0],)}
    shapes |= {"W2": (MAPS[1], MAPS[0], KERNEL, KERNEL), "b2": (MAPS[1],)}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=3):
        shapes |= {f"W{i}": (n_in, n_out), f"b{i}": (n_out,)}
    return shapes


def initial_weights(rng: np.random.Generator, hp: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """W ~ N(0, 1) / sqrt(fan_in) (fan_in of a convolution: in maps x 5 x 5), b = 0, float32."""
    weights = {}
    for name, shape in weight_shapes(hp).items():
        if name.startswith("W"):
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            weights[name] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        else:
            weights[name] = np.zeros(shape, np.float32)
    return weights


CONTRACT = Contract(
    forward=(
        "f(a) = 1.7159 tanh(2a/3); a1 = f(conv(x, W1, padding 2) + b1) (B, 6, 28, 28); p1 = 2x2 "
        "means of a1 (B, 6, 14, 14); a2 = f(conv(p1, W2) + b2) (B, 16, 10, 10); p2 = 2x2 means of "
        "a2, flattened channel-major (B, 400); a3 = f(p2 @ W3 + b3) (B, 120); a4 = f(a3 @ W4 + b4)"
        " (B, 84); logits = a4 @ W5 + b5 (B, 10). conv is cross-correlation (no kernel flip), "
        "stride 1"
    ),
    loss="cross-entropy of softmax(logits) against the labels, mean over the batch",
    update="plain SGD: w -= lr * d loss / d w, for every weight and bias",
    predict="the logits (N, 10)",
    hyperparameters={
        "lr": "SGD learning rate, > 0",
        "batch_size": "samples per step; the last batch of an epoch may be short",
        "epochs": "passes over the training set, each in a fresh random order",
    },
)

STEPS = tuple(
    StepModule(backend, f"mnistbench_lenet.{backend}_steps", protocol=1)
    for backend in ("numpy", "torch", "jax")
) + (StepModule("torch", "mnistbench_lenet.torch_model", protocol=1, implementation="autograd"),)

VARIANT = Variant(
    name="lenet",
    seed_notebook="none (LeCun et al. 1998)",
    summary="LeNet-5: conv 5x5 x6, average 2x2, conv 5x5 x16, average 2x2, dense 120-84-10, scaled"
    " tanh, softmax cross-entropy, SGD lr 0.1, batch 32 shuffled, 10 epochs",
    seed_fix="",
    seed_accuracy=0.9905,  # LeCun et al. report 0.95% test error for LeNet-5 without distortions
    departure="the output is softmax cross-entropy, not RBF units; subsampling without trainable"
    " coefficients; C3 fully connected; plain SGD",
    defaults=DEFAULTS,
    prepare_inputs=prepare_inputs,
    initial_weights=initial_weights,
    contract=CONTRACT,
    plan=shuffled_plan,  # a fresh random order every epoch
    weight_shapes=weight_shapes,
    plan_bytes=shuffled_plan_bytes,
    small={"batch_size": 8, "epochs": 2, "lr": 0.05},  # 96 samples: 24 steps
    reference=Reference(reference.loss_and_gradients, reference.predict, SGD),
    cost=Cost(10.0 / 60_000),  # NumPy steps, one core: about 10 s per epoch of 60,000
    input_layout="images",
    steps=STEPS,
)
