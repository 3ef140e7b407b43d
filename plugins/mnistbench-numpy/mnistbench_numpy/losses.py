"""Loss functions the NumPy variants share, each with its gradient by hand.

Softmax cross-entropy is one numba kernel: in NumPy ufuncs it is a dozen calls on a (B, 10)
array, each costing more to call than to compute at the batch sizes of ``mlp`` (8) and ``mnn``
(64), about a tenth of an ``mlp`` step. The kernel compiles once per dtype and is cached beside
this file.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _softmax_cross_entropy(logits, labels, relu, d_logits):  # pragma: no cover - compiled
    """Sum over rows of -log softmax(z)[label], with z = relu(logits) if ``relu`` else logits;
    d sum / d logits written into ``d_logits``, divided by the row count. Rows are shifted by
    their max so exp cannot overflow; a row's arithmetic is in float64."""
    n, classes = logits.shape
    z = np.empty(classes)
    loss = 0.0
    for b in range(n):
        for k in range(classes):
            z[k] = max(logits[b, k], 0.0) if relu else logits[b, k]
        top = z.max()
        label = labels[b]
        if not 0 <= label < classes:  # compiled code does not check the index itself
            raise ValueError("a label is outside the classes of the logits")
        loss -= z[label] - top
        total = 0.0
        for k in range(classes):
            z[k] = np.exp(z[k] - top)
            total += z[k]
        loss += np.log(total)
        for k in range(classes):
            d = z[k] / total - 1.0 if k == label else z[k] / total
            if relu and not logits[b, k] > 0:  # ReLU passes gradient only where it was active
                d = 0.0
            d_logits[b, k] = d / n
    return loss


def softmax_cross_entropy(
    logits: np.ndarray, y: np.ndarray, relu: bool = False
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) (B, C) against labels ``y`` (B,), and d loss / d
    logits = (softmax - onehot) / B. With ``relu``, of softmax(relu(logits)), the gradient
    taken through the ReLU (zero where a logit is not positive)."""
    d_logits = np.empty_like(logits)
    loss = _softmax_cross_entropy(logits, y, relu, d_logits) / len(logits)
    return float(loss), d_logits
