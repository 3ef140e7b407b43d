"""Adam as one fused PyTorch kernel, in place: the optimiser of ``mnn``.

Called directly, rather than through torch.optim.Adam, so that its state is plain named tensors,
which the loop checkpoints and restores like any other variant's, and so a step costs no
optimiser bookkeeping (about 45 µs per step on a CPU). The kernel is the one
``torch.optim.Adam(fused=True)`` runs; its step count is a float32 tensor on the device, as
torch.optim keeps it, so the bias corrections are computed on the device and a CUDA graph can
capture the step.
"""

from __future__ import annotations

import torch


def adam_(p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step, hp) -> None:
    """One Adam update of ``p`` in place; ``m``, ``v`` the running means of g and g*g (in
    place); ``step`` the 0-d float32 step count on p's device, incremented here first."""
    step += 1
    torch._fused_adam_(
        [p],
        [g],
        [m],
        [v],
        [],  # max_exp_avg_sqs: amsgrad only
        [step],
        lr=float(hp["lr"]),
        beta1=float(hp["beta1"]),
        beta2=float(hp["beta2"]),
        weight_decay=0.0,
        eps=float(hp["eps"]),
        amsgrad=False,
        maximize=False,
    )
