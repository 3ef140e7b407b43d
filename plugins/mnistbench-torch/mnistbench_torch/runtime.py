"""PyTorch settings shared by every variant: determinism, moving arrays on and off a device, and
an optimiser's state as NumPy arrays (for the core's checkpoints) and back."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch


def make_deterministic() -> None:
    """Ask PyTorch for deterministic kernels, so a seed fixes the metrics on the same machine."""
    # cuBLAS needs a fixed workspace to be deterministic; it must be set before its first use.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    # Full float32 matmuls on GPUs too: TF32 would make CUDA results drift from the CPU ones.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def warm_up(device: str) -> None:
    """Create the CUDA context and cuBLAS handle now, so that no epoch's time includes them."""
    a = torch.ones(8, 8, device=device)
    (a @ a).sum().item()


def parameters(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """Trainable float32 copies of the core's initial weights on ``device``."""
    return {
        k: torch.tensor(np.asarray(v), dtype=torch.float32, device=device, requires_grad=True)
        for k, v in weights.items()
    }


def to_numpy(params: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Host float32 copies of ``params``, the form the core saves and any backend can load."""
    return {k: p.detach().to("cpu", torch.float32).numpy().copy() for k, p in params.items()}


def optimizer_state(
    optimizer: torch.optim.Optimizer, params: Mapping[str, torch.Tensor]
) -> dict[str, np.ndarray]:
    """The optimiser's per-parameter state as host arrays named ``<param>.<key>``.

    E.g. Adam's ``W_in.exp_avg``, ``W_in.exp_avg_sq`` and ``W_in.step``; empty for plain SGD.
    """
    return {
        f"{name}.{key}": value.detach().cpu().numpy().copy()
        for name, p in params.items()
        for key, value in optimizer.state.get(p, {}).items()
        if isinstance(value, torch.Tensor)
    }


def load_optimizer_state(
    optimizer: torch.optim.Optimizer,
    params: Mapping[str, torch.Tensor],
    state: Mapping[str, np.ndarray],
    device: str,
) -> None:
    """Put back what :func:`optimizer_state` returned, before the first step.

    Scalars (Adam's ``step``) stay on the host, where torch.optim keeps them by default.
    """
    for key, value in state.items():
        name, _, field = key.rpartition(".")
        where = "cpu" if np.ndim(value) == 0 else device
        optimizer.state[params[name]][field] = torch.from_numpy(np.array(value)).to(where)


@torch.no_grad()
def predict(forward, weights: Mapping[str, np.ndarray], x: np.ndarray, device: str, *args):
    """``forward(weights, x, *args)`` on ``device``, returned as a host NumPy array."""
    on_device = {k: tensor(v, device) for k, v in weights.items()}
    return forward(on_device, tensor(x, device), *args).cpu().numpy()


def tensor(array: np.ndarray, device: str) -> torch.Tensor:
    """``array`` on ``device`` without an extra host copy."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
