"""``mlp`` as a forward pass: 784-H-10, ReLU, cross-entropy of the logits. See
mnistbench.variants.mlp."""

import torch
import torch.nn.functional as F


def forward(w, x, hp):
    """Logits (B, 10) for inputs ``x`` (B, 784)."""
    h = torch.relu(x @ w["W1"] + w["b1"])  # (B, H)
    return h @ w["W2"] + w["b2"]  # (B, 10)


def loss(w, x, y, extras, hp):
    """Mean softmax cross-entropy against labels ``y`` (B,)."""
    return F.cross_entropy(forward(w, x, hp), y)
