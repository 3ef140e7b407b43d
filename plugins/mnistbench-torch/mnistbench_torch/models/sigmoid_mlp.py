"""``sigmoid_mlp`` as a forward pass: sigmoid hidden layer, softmax over classes, squared error.
See mnistbench.variants.sigmoid_mlp."""

import torch
import torch.nn.functional as F


def forward(w, x, hp):
    """Class probabilities (B, 10) for raw 0..255 inputs ``x`` (B, 784)."""
    return torch.softmax(torch.sigmoid(x @ w["W1"]) @ w["W2"], dim=1)


def loss(w, x, y, extras, hp):
    """mean_b sum_k (softmax_k - onehot_k)^2."""
    p = forward(w, x, hp)
    return (p - F.one_hot(y, p.shape[1]).to(p.dtype)).square().sum(dim=1).mean()
