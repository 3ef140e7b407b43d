"""``dropout_mlp`` as a forward pass: ReLU hidden layer with the core's dropout masks, linear
output, squared error. See mnistbench.variants.dropout_mlp."""

import torch
import torch.nn.functional as F


def forward(w, x, hp, mask=None):
    """Outputs (B, 10); in training the hidden units times ``mask`` (B, H), the core's dropout
    masks (already scaled by 1/keep, so predicting without one keeps expectations equal)."""
    h = torch.relu(x @ w["W1"])  # (B, H)
    return (h if mask is None else h * mask) @ w["W2"]  # (B, 10)


def loss(w, x, y, extras, hp):
    """mean_b 1/2 sum_k (out_k - onehot_k)^2, masks applied."""
    out = forward(w, x, hp, extras["dropout_masks"])
    return 0.5 * (out - F.one_hot(y, out.shape[1]).to(out.dtype)).square().sum(dim=1).mean()
