"""PyTorch settings shared by every variant: threads, determinism, and moving arrays on and off a
device."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import torch

from mnistbench.plugin import scores_in_chunks, threads

log = logging.getLogger(__name__)


def use_job_threads() -> None:
    """PyTorch's intra-op and inter-op pools at the job's thread count, if it set one
    (:mod:`mnistbench.plugin.threads`). ``OMP_NUM_THREADS`` sizes only the intra-op pool; the
    inter-op pool takes one thread per core unless set before its first use."""
    n = threads.configured()
    if n is None or (torch.get_num_threads(), torch.get_num_interop_threads()) == (n, n):
        return
    torch.set_num_threads(n)
    if torch.get_num_interop_threads() != n:
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:  # the pool started earlier in this process: its size is fixed
            log.warning("PyTorch's inter-op pool had started: it keeps its threads")
            return
    log.info("PyTorch: %d intra-op and %d inter-op threads", n, n)


def make_deterministic(device: str) -> None:
    """Ask PyTorch for deterministic kernels on a GPU, so a seed fixes the metrics on the same
    machine. The CPU kernels the variants use (matrix products, element-wise operations and
    gathers) are deterministic at a fixed thread count already; the switch would cost every CPU
    job almost a second of imports (``torch.use_deterministic_algorithms`` loads TorchInductor's
    configuration)."""
    if not device.startswith("cuda"):
        return
    # cuBLAS needs a fixed workspace to be deterministic; it must be set before its first use.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    # Full float32 matmuls on GPUs too: TF32 would make CUDA results drift from the CPU ones.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


@contextmanager
def flush_denormals(device: str) -> Iterator[None]:
    """On the CPU, treat denormal floats as zero inside the block (``torch.set_flush_denormal``),
    as XLA does: a confident model's tiny probabilities and gradients otherwise become denormal
    numbers, which x86 CPUs compute on tens of times slower (see
    :mod:`mnistbench.plugin.denormals`)."""
    if device != "cpu" or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def warm_up(device: str) -> None:
    """Create the CUDA context and cuBLAS handle now, so that no epoch's time includes them."""
    a = torch.ones(8, 8, device=device)
    (a @ a).sum().item()


def tensors(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """Float32 copies of the core's weights on ``device``, for steps that update them in place."""
    return {
        k: torch.tensor(np.asarray(v), dtype=torch.float32, device=device)
        for k, v in weights.items()
    }


def parameters(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """Trainable float32 copies of the core's weights on ``device``, for autograd."""
    return {k: t.requires_grad_() for k, t in tensors(weights, device).items()}


def to_numpy(params: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Host float32 copies of ``params``, the form the core saves and any backend can load."""
    return {k: p.detach().to("cpu", torch.float32).numpy().copy() for k, p in params.items()}


@torch.no_grad()
def predict(forward, weights: Mapping[str, np.ndarray], x: np.ndarray, device: str, *args):
    """``forward(weights, x, *args)`` on ``device``, returned as a host NumPy array, a bounded
    number of rows at a time (:func:`mnistbench.plugin.scores_in_chunks`)."""
    on_device = {k: tensor(v, device) for k, v in weights.items()}
    return scores_in_chunks(lambda rows: forward(on_device, tensor(rows, device), *args).cpu(), x)


def step_losses(module, returned: torch.Tensor) -> torch.Tensor:
    """The losses (steps,) of steps of one batch size, from what their ``STEP`` returned,
    stacked: the 0-d losses themselves, or, for a variant whose ``STEP`` returns what its loss
    is computed from (``dropout_mlp``'s residuals: a one-sample step's loss costs more kernels
    than its update), the variant's ``losses`` of them, one reduction for the lot."""
    return getattr(module, "losses", lambda stacked: stacked)(returned)


def relu_backward(grad: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
    """``grad`` where ``pre > 0``, else 0: the gradient through relu(pre), in one kernel (the one
    autograd runs for ReLU) rather than a comparison, a conversion and a product."""
    return _threshold_backward(grad, pre, 0)


_threshold_backward = torch.ops.aten.threshold_backward.default  # the overload, resolved once


def one_hot(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Float32 one-hot rows (B, classes) for integer ``labels`` (B,): rows of a cached identity
    matrix. ``F.one_hot`` first checks the labels' range, a reduction and a host sync that cost
    more than a one-sample training step."""
    return _identity(classes, labels.device).index_select(0, labels)


@functools.cache
def ones(n: int, device: torch.device) -> torch.Tensor:
    """A float32 vector of ``n`` ones on ``device``, made once: a bias's update is then one
    matrix-vector product (``b.addmv_(d.T, ones)``) rather than a sum and a subtraction."""
    return torch.ones(n, device=device)


@functools.cache
def _identity(classes: int, device: torch.device) -> torch.Tensor:
    return torch.eye(classes, device=device)


def tensor(array: np.ndarray, device: str) -> torch.Tensor:
    """``array`` on ``device`` without an extra host copy."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
