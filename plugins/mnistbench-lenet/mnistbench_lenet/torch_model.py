"""LeNet-5 for PyTorch as people write it (the autograd protocol, version 1): a forward pass and
a loss; PyTorch's autograd takes the gradients and ``torch.optim.SGD`` applies them.

The protocol: ``forward(w, x, hp)`` returns the scores ``predict`` gives, ``loss(w, x, y, extras,
hp)`` one batch's training loss; ``w`` holds the weights by name as trainable float32 tensors.
"""

import torch
import torch.nn.functional as F

SCALE, SLOPE = 1.7159, 2 / 3  # f(a) = 1.7159 tanh(2a/3)


def act(z):
    return SCALE * torch.tanh(SLOPE * z)


def forward(w, x, hp=None):
    """The logits (B, 10) for images ``x`` (B, 1, 28, 28)."""
    p1 = F.avg_pool2d(act(F.conv2d(x, w["W1"], w["b1"], padding=2)), 2)  # (B, 6, 14, 14)
    p2 = F.avg_pool2d(act(F.conv2d(p1, w["W2"], w["b2"])), 2)  # (B, 16, 5, 5)
    a3 = act(p2.flatten(1) @ w["W3"] + w["b3"])  # (B, 120)
    a4 = act(a3 @ w["W4"] + w["b4"])  # (B, 84)
    return a4 @ w["W5"] + w["b5"]  # (B, 10)


def loss(w, x, y, extras, hp):
    """Mean softmax cross-entropy against labels ``y`` (B,)."""
    return F.cross_entropy(forward(w, x, hp), y)
