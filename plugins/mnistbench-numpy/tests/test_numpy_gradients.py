"""The NumPy variants' gradients as arrays (``loss_and_gradients``, what finite-difference and
reference checks call) equal the float64 reference's, labels and dropout masks included."""

import numpy as np
import pytest

from mnistbench import reference
from mnistbench.variants import VARIANTS
from mnistbench_numpy import dropout_mlp, sigmoid_mlp


def small_problem(variant: str, rng):
    hp = VARIANTS[variant].hyperparameters(VARIANTS[variant].small)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    x = VARIANTS[variant].prepare_inputs(images, hp).astype(np.float64)
    y = np.array([0, 3, 3, 7, 9, 1])
    w = {k: v.astype(np.float64) for k, v in VARIANTS[variant].initial_weights(rng, hp).items()}
    return hp, x, y, w


def assert_same(ours, theirs):
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    assert sorted(ours[1]) == sorted(theirs[1])
    for name, grad in theirs[1].items():
        np.testing.assert_allclose(ours[1][name], grad, rtol=1e-10, atol=1e-14, err_msg=name)


def test_dropout_mlp_with_its_masks_and_labels_matches_the_reference():
    rng = np.random.default_rng(0)
    hp, x, y, w = small_problem("dropout_mlp", rng)
    masks = (rng.random((len(x), int(hp["hidden"]))) < 0.5) * 2.0
    ours = dropout_mlp.loss_and_gradients(w, x, y, hp, masks)
    assert_same(ours, reference.dropout_mlp(w, x, y, hp, {"dropout_masks": masks}))
    shuffled = dropout_mlp.loss_and_gradients(w, x, y[::-1].copy(), hp, masks)
    assert shuffled[0] != pytest.approx(ours[0], rel=1e-6)  # the labels count


def test_sigmoid_mlp_with_its_labels_matches_the_reference():
    rng = np.random.default_rng(1)
    hp, x, y, w = small_problem("sigmoid_mlp", rng)
    assert_same(sigmoid_mlp.loss_and_gradients(w, x, y, hp), reference.sigmoid_mlp(w, x, y, hp, {}))


def test_an_mnn_neuron_at_exactly_zero_before_the_last_tick_passes_no_gradient():
    """A hidden neuron whose column of A is zero sits at exactly 0 in every tick: ReLU passes
    nothing back through it, so its column of the gradient is exactly zero."""
    from mnistbench.variants.mnn import FREE
    from mnistbench_numpy import mnn

    rng = np.random.default_rng(2)
    hp = VARIANTS["mnn"].hyperparameters({"hidden": 4, "init_scale": 0.5})
    A = VARIANTS["mnn"].initial_weights(rng, hp)["A"].astype(np.float64)
    A[:, FREE] = 0.0  # the first hidden neuron receives nothing
    x = rng.standard_normal((3, 784))
    y = np.array([1, 2, 3])
    _, grads = mnn.loss_and_gradients({"A": A}, x, y, hp)
    assert not grads["A"][:, FREE].any()
    assert grads["A"][:, FREE + 1 :].any()
    _, expected = reference.mnn({"A": A}, x, y, hp, {})
    np.testing.assert_allclose(grads["A"], expected["A"], rtol=1e-9, atol=1e-12)
