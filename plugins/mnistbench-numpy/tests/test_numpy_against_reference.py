"""The NumPy backend's building blocks against the core's float64 reference and closed forms.

The conformance suite compares other backends with NumPy; these tests compare NumPy itself with
something independent: ``loss_and_gradients`` of every variant with a gradient with
:mod:`mnistbench.variants.reference` on the same float64 weights, images and labels, dropout with a
real plan's masks, an mnn neuron at exactly zero, SGD on Fortran-ordered weights and Adam at
non-default decays against their formulas, on small seeded inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.variants import get_variant, reference
from mnistbench.variants.mnn import layout
from mnistbench_numpy import dropout_mlp, mlp, mnn, sigmoid_mlp
from mnistbench_numpy.adam import adam
from mnistbench_numpy.updates import Outer, sgd

MODULES = {"mlp": mlp, "sigmoid_mlp": sigmoid_mlp, "dropout_mlp": dropout_mlp, "mnn": mnn}


def batch(variant: str, n: int = 5):
    """Seeded images and labels as the variant feeds them, its initial weights and masks, all
    float64, with hyperparameters small enough for a quick check."""
    the_variant = get_variant(variant)
    hp = the_variant.hyperparameters({"hidden": 7} if variant != "mnn" else {"hidden": 3})
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = np.array([3, 0, 9, 3, 7][:n], np.int64)
    x = the_variant.prepare_inputs(images, hp).astype(np.float64)
    w = {k: v.astype(np.float64) for k, v in the_variant.initial_weights(rng, hp).items()}
    extras = {}
    if variant == "dropout_mlp":  # a real plan's masks: 0 or 1/keep, some units dropped
        masks = the_variant.plan(rng, rng, n, hp).extras["dropout_masks"][0].astype(np.float64)
        assert 0 < np.count_nonzero(masks) < masks.size
        extras["dropout_masks"] = masks
    return w, x, labels, hp, extras


@pytest.mark.parametrize("variant", sorted(MODULES))
def test_loss_and_gradients_are_the_float64_references(variant):
    """Same weights, inputs and labels: the same loss and every gradient, to rounding."""
    w, x, y, hp, extras = batch(variant)
    want_loss, want = reference.LOSSES[variant](w, x, y, hp, extras)
    loss, grads = MODULES[variant].loss_and_gradients(w, x, y.copy(), hp, **extras)
    assert loss == pytest.approx(want_loss, rel=1e-12)
    assert grads.keys() == want.keys()
    for name, value in want.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-9, atol=1e-15, err_msg=name)


def test_dropout_with_a_real_plans_masks_is_the_reference_and_not_the_whole_network():
    """The masks a dropout plan makes (0 or 1/keep) give the reference's loss and gradients, and
    a loss other than that of the network with every unit kept: the masks are used."""
    w, x, y, hp, extras = batch("dropout_mlp")
    every_unit = {"dropout_masks": np.ones_like(extras["dropout_masks"])}
    whole, _ = dropout_mlp.loss_and_gradients(w, x, y.copy(), hp)
    masked, grads = dropout_mlp.loss_and_gradients(w, x, y.copy(), hp, **extras)
    assert whole == pytest.approx(reference.dropout_mlp(w, x, y, hp, every_unit)[0], rel=1e-12)
    want_loss, want = reference.dropout_mlp(w, x, y, hp, extras)
    assert masked == pytest.approx(want_loss, rel=1e-12)
    assert masked != pytest.approx(whole, rel=1e-3)
    for name, value in want.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-9, atol=1e-15, err_msg=name)


def test_an_mnn_neuron_at_exactly_zero_before_the_last_tick_passes_no_gradient():
    """A hidden neuron whose column of A is zero sits at exactly 0 in every tick: ReLU passes
    nothing back through it, so its column of the gradient is exactly zero."""
    w, x, y, hp, _ = batch("mnn")
    free = layout(hp).free
    w["A"][:, free] = 0.0  # the first hidden neuron receives nothing
    _, grads = mnn.loss_and_gradients(w, x, y, hp)
    assert not grads["A"][:, free].any()
    assert grads["A"][:, free + 1 :].any()
    _, want = reference.mnn(w, x, y, hp, {})
    np.testing.assert_allclose(grads["A"], want["A"], rtol=1e-9, atol=1e-15)


def outer(rng, n_in: int, n_out: int, batch: int = 4) -> Outer:
    return Outer(
        rng.standard_normal((batch, n_in)).astype(np.float32),
        rng.standard_normal((batch, n_out)).astype(np.float32),
    )


@pytest.mark.parametrize(
    "dtype, order", [(np.float32, "C"), (np.float32, "F"), (np.float64, "C")], ids=str
)
def test_sgd_subtracts_lr_times_the_outer_product_in_place(dtype, order):
    """w -= lr * a.T @ d for a factored gradient, w -= lr * g for a plain one, whatever the
    weights' dtype and memory order (BLAS's in-place path takes only C-ordered float32)."""
    rng = np.random.default_rng(2)
    g = outer(rng, 6, 3)
    bias_grad = rng.standard_normal(3).astype(dtype)
    W = np.asarray(rng.standard_normal((6, 3)), dtype=dtype, order=order)
    b = rng.standard_normal(3).astype(dtype)
    w = {"W": W, "b": b}
    want_W = W.astype(np.float64) - 0.25 * (g.a.astype(np.float64).T @ g.d.astype(np.float64))
    want_b = b.astype(np.float64) - 0.25 * bias_grad.astype(np.float64)
    sgd(w, {"W": g, "b": bias_grad}, 0.25)
    assert w["W"] is W and w["b"] is b  # in place
    np.testing.assert_allclose(W, want_W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, want_b, rtol=1e-6)


def adam_hp():
    return {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "eps": 1e-3}


def test_adam_steps_are_the_published_formula():
    """Three Adam steps against Kingma & Ba's formula in float64 (the reference's Adam):
    moments, bias corrections, eps outside the root, at decays other than the defaults."""
    rng = np.random.default_rng(3)
    p = rng.standard_normal((4, 5)).astype(np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    want = {"p": p.astype(np.float64)}
    ref = reference.Adam(adam_hp())
    for step in range(1, 4):
        g = rng.standard_normal(p.shape).astype(np.float32)
        adam(p, g, m, v, step, adam_hp())
        ref.step(want, {"p": g.astype(np.float64)})
        np.testing.assert_allclose(m, ref.m["p"], rtol=1e-5)
        np.testing.assert_allclose(v, ref.v["p"], rtol=1e-5)
        np.testing.assert_allclose(p, want["p"], rtol=1e-5, atol=1e-6)
