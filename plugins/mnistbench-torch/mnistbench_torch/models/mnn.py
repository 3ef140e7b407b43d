"""``mnn`` as a forward pass: the matrix network, ticks of s = relu(clamp(s) @ A), cross-entropy
of the output neurons, Adam on the whole of A. See mnistbench.variants.mnn.

Written as the source notebook writes it (with its bias index and its in-place clamping fixed):
autograd finds that only A's columns into the free neurons reach the loss, so Adam leaves the
others as initialised, as the tuned step does by computing only those columns.
"""

import torch
import torch.nn.functional as F

from mnistbench.variants.mnn import layout_of


def forward(w, x, hp):
    """Logits (B, classes): the output neurons after the last tick, for inputs ``x`` (B, pixels)."""
    A = w["A"]  # (N, N)
    where = layout_of(len(A), x.shape[1], hidden=hp["hidden"])
    state = x.new_zeros(len(x), len(A))  # (B, N)
    ones = x.new_ones(len(x), 1)  # the bias neuron
    for _ in range(int(hp["ticks"])):
        clamped = torch.cat([x, ones, state[:, where.free :]], dim=1)  # (B, N)
        state = torch.relu(clamped @ A)
    return state[:, -where.classes :]


def loss(w, x, y, extras, hp):
    """Mean softmax cross-entropy against labels ``y`` (B,)."""
    return F.cross_entropy(forward(w, x, hp), y)
