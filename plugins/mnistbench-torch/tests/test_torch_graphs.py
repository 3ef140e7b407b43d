"""The CUDA-graph path trains exactly what the eager loop trains.

Its bookkeeping (each run of steps' rows gathered into static buffers, runs of several steps and
a shorter leftover run, each loss at its step, the shorter last batch, the warm-up undone) runs on
any device with ``capture=False``; the capture itself needs a CUDA device.
"""

import dataclasses
import importlib

import numpy as np
import pytest
import torch

from mnistbench.plugin import testing
from mnistbench.variants import VARIANTS
from mnistbench_torch import graphs, loop

CAPTURABLE = ["mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding"]


def small_spec(variant: str, device: str, samples: int = 100):
    """A few batches of random images, the last one shorter than the rest, over two epochs
    where the variant counts them."""
    two_epochs = {"epochs": 2} if "epochs" in VARIANTS[variant].hyperparameters({}) else {}
    return testing.small_spec(variant, device, samples, two_epochs)


def epochs(trainer, spec):
    return [trainer.train_epoch(e) for e in range(len(spec.epochs))]


def assert_same_run(a, b):
    for ours, theirs in zip(a, b, strict=True):
        np.testing.assert_array_equal(ours.losses, theirs.losses)
        for name, value in theirs.weights.items():
            np.testing.assert_array_equal(ours.weights[name], value, err_msg=name)


def trainer(spec, module, steps: str):
    """A trainer whose steps run eagerly ("eager"), from the graph's buffers without capture
    ("buffers"), or captured ("graph")."""
    run = loop.Trainer(spec, module)
    if steps == "eager":
        run.captured = None
    elif steps == "buffers":
        # five steps a run: several runs an epoch, and a shorter leftover one
        run.captured = graphs.CapturedSteps(
            module, run.w, run.state, run.hp, spec, run.x, run.y, capture=False, steps_per_replay=5
        )
    else:
        assert run.captured is not None, "capture failed: see the log"
    return run


@pytest.mark.parametrize("variant", CAPTURABLE)
def test_the_graphs_bookkeeping_trains_what_the_eager_loop_trains(variant):
    spec = small_spec(variant, "cpu")
    if variant == "dropout_mlp":  # one sample a step: at 5, its residuals reduce in two parts
        spec = dataclasses.replace(spec, batch_size=5)
    if variant in ("mlp", "dropout_mlp", "predictive_coding"):  # a shorter last batch
        assert any(len(order) % spec.batch_size for order in spec.epochs)
    module = importlib.import_module(f"mnistbench_torch.{variant}")
    buffers = trainer(spec, module, "buffers")
    if variant == "mlp":  # 12 full batches: runs of 5, 5 and 2
        assert sorted(buffers.captured.replays) == [2, 5]
    assert_same_run(epochs(buffers, spec), epochs(trainer(spec, module, "eager"), spec))


def test_no_step_is_captured_on_the_cpu():
    assert not graphs.wanted(small_spec("mlp", "cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_on_cuda_every_variant_is_captured_unless_switched_off(monkeypatch):
    cuda = small_spec("mlp", "cuda")
    assert graphs.wanted(cuda)
    assert graphs.wanted(small_spec("mnn", "cuda"))
    monkeypatch.setenv("MNISTBENCH_TORCH_CUDA_GRAPHS", "0")
    assert not graphs.wanted(cuda)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("variant", CAPTURABLE)
def test_a_captured_run_trains_what_the_eager_loop_trains_to_the_bit(variant):
    # mlp: 125 full batches of 8 (runs of 64 and 61 steps) and a short one of 4
    spec = small_spec(variant, "cuda", samples=1004)
    module = importlib.import_module(f"mnistbench_torch.{variant}")
    assert_same_run(
        epochs(trainer(spec, module, "graph"), spec), epochs(trainer(spec, module, "eager"), spec)
    )
