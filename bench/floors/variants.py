"""Each variant's unavoidable kernels, from its hyperparameters and one sample's size.

``calls`` counts the framework calls an eager step cannot go below, with a product and its bias
in one call (``addmm``), a softmax in one, an in-place update in one, and the loss the step
reports in one; each function says which. Products of a dense layer ``x @ W`` are:
forward (B, in) @ (in, out), its input's gradient (B, out) @ W.T, and its weight's gradient
(in, B) @ (B, out), accumulated into W by SGD or kept for Adam.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod
from typing import Any

from floors import Product, StepKernels

Describe = Callable[[Mapping[str, Any], tuple[int, ...]], StepKernels]


def dense(name: str, batch: int, n_in: int, n_out: int, *, back: bool, adam: bool = False):
    """The products of one dense layer: forward, weight gradient, and (``back``) the gradient
    sent to its input."""
    products = [Product(f"{name} forward", "forward", batch, n_in, n_out)]
    if back:
        products.append(Product(f"{name} backward", "backward", batch, n_out, n_in))
    kind = "gradient" if adam else "update"
    products.append(Product(f"{name} gradient", kind, n_in, batch, n_out))
    return products


# The one-hidden-layer variants: x @ W1, an activation, @ W2 into 10 outputs, SGD. Per variant:
# what its forward pass is, its batch (None: the configured one), and the calls its step makes.
ONE_HIDDEN_LAYER = {
    "mlp": (
        "x @ W1 + b1, ReLU, @ W2 + b2, softmax cross-entropy, SGD.",
        None,
        13,
        "gather 2, addmm ReLU addmm 3, log-softmax, loss, softmax - onehot 3, backward product "
        "and ReLU mask 2, one in-place update per weight 4 (both products accumulate into W1, W2)",
    ),
    "sigmoid_mlp": (
        "sigmoid(x @ W1) @ W2, softmax, squared error, SGD; no biases.",
        None,
        14,
        "gather 2, product sigmoid product softmax 4, loss 1, the squared error's gradient "
        "through the softmax 3 (p - onehot, its dot with p, the Jacobian product), backward "
        "product and sigmoid slope 2, two accumulating updates 2",
    ),
    "dropout_mlp": (
        "relu(x @ W1) * mask @ W2, squared error, per-sample SGD; no biases.",
        1,
        11,
        "gather 2 (the mask is a row of the epoch's masks, read in place), product, ReLU times "
        "mask 2, product 1, loss 1, out - onehot 1, backward product and mask 2, two "
        "accumulating updates 2",
    ),
}


def one_hidden_layer(variant: str) -> Describe:
    """The kernels of ``variant``, one of :data:`ONE_HIDDEN_LAYER`: the products of its two dense
    layers (no gradient sent back to the pixels) and its step's calls."""
    forward, batch, calls, calls_are = ONE_HIDDEN_LAYER[variant]

    def describe(hp: Mapping[str, Any], sample: tuple[int, ...]) -> StepKernels:
        b = batch or int(hp["batch_size"])
        products = dense("W1", b, prod(sample), int(hp["hidden"]), back=False)
        products += dense("W2", b, int(hp["hidden"]), 10, back=True)
        return StepKernels(b, tuple(products), calls=calls, calls_are=calls_are)

    describe.__doc__ = forward
    return describe


def mnn(hp: Mapping[str, Any], sample: tuple[int, ...]) -> StepKernels:
    """``ticks`` ticks of s = relu(clamp(s) @ A) over the free neurons, cross-entropy, Adam on
    the trained columns A[:, 785:] (N, F). Of the last tick only the outputs' columns reach the
    loss, so its products are the outputs' (F, 10) block, not the whole (F, F)."""
    b, pixels, ticks = int(hp["batch_size"]), prod(sample), int(hp["ticks"])
    free = int(hp["hidden"]) + 10
    neurons = pixels + 1 + free
    classes = 10
    products = [Product("drive x @ A[:784]", "forward", b, pixels, free)]
    # the last tick reaches the loss only through the outputs: its products are (F, classes)
    width = {t: classes if t == ticks - 1 else free for t in range(1, ticks)}
    for t in range(1, ticks):
        products.append(Product(f"tick {t} forward", "forward", b, free, width[t]))
    for t in range(ticks - 1, 0, -1):
        products.append(Product(f"tick {t} gradient", "gradient", free, b, width[t]))
        products.append(Product(f"tick {t} backward", "backward", b, width[t], free))
    products.append(Product("pixel gradient", "gradient", pixels, b, free))
    return StepKernels(
        b,
        tuple(products),
        adam=((neurons, free),),
        calls=6 * ticks + 3,
        calls_are=f"gather 2, per tick addmm and ReLU 2, log-softmax loss and gradient 3, per "
        f"tick back a ReLU mask, a sum into the drive's gradient and (after the first) two "
        f"products 4 less 2, bias gradient 1, Adam 1: {6 * ticks + 3} at {ticks} ticks",
    )


def predictive_coding(hp: Mapping[str, Any], sample: tuple[int, ...]) -> StepKernels:
    """mu1 = x @ W1 + b1; ``inference_steps`` relaxations of x1; one Hebbian update."""
    b, pixels, hidden = int(hp["batch_size"]), prod(sample), int(hp["hidden"])
    steps = int(hp["inference_steps"])
    products = [Product("mu1 = x @ W1", "forward", b, pixels, hidden)]
    for s in range(1, steps + 1):
        products.append(Product(f"relax {s}: mu2 = f(x1) @ W2", "forward", b, hidden, 10))
        products.append(Product(f"relax {s}: e2 @ W2.T", "backward", b, 10, hidden))
    products.append(Product("mu2 = f(x1) @ W2", "forward", b, hidden, 10))
    products.append(Product("W1 += x.T @ e1", "update", pixels, b, hidden))
    products.append(Product("W2 += f(x1).T @ e2", "update", hidden, b, 10))
    return StepKernels(
        b,
        tuple(products),
        calls=6 * steps + 11,
        calls_are=f"gather 2, mu1 1, per relaxation ReLU, addmm, e2, product, slope mask, x1 "
        f"update 6, final errors 3, energy 1, four updates 4: {6 * steps + 11} at {steps} steps",
    )


def lenet(hp: Mapping[str, Any], sample: tuple[int, ...]) -> StepKernels:
    """LeNet-5's convolutions as the products of their unrolled patches (im2col: a convolution
    does at least this arithmetic), its three dense layers, SGD."""
    b = int(hp["batch_size"])
    side = sample[-1]
    c1 = side  # 5x5, padding 2: same size
    c3 = c1 // 2 - 4
    products = [
        Product("C1 forward", "forward", b * c1 * c1, 25, 6),
        Product("C1 gradient", "update", 25, b * c1 * c1, 6),
        Product("C3 forward", "forward", b * c3 * c3, 150, 16),
        Product("C3 backward", "backward", b * c3 * c3, 16, 150),
        Product("C3 gradient", "update", 150, b * c3 * c3, 16),
    ]
    flat = 16 * (c3 // 2) ** 2
    for name, n_in, n_out in (("C5", flat, 120), ("F6", 120, 84), ("out", 84, 10)):
        products += dense(name, b, n_in, n_out, back=True)
    return StepKernels(
        b,
        tuple(products),
        calls=34,
        calls_are="gather 2, per convolution conv, activation, pool 3 (x2), three addmm and "
        "two activations 5, loss and its gradient 3, back: three dense products and two slopes "
        "5, two pool and activation gradients and two convolution gradients 6, ten updates",
    )


DESCRIBED: dict[str, Describe] = {
    **{variant: one_hidden_layer(variant) for variant in ONE_HIDDEN_LAYER},
    "mnn": mnn,
    "predictive_coding": predictive_coding,
    "lenet": lenet,
}
