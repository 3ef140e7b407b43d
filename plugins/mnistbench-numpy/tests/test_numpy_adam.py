"""The fused Adam kernel computes what Adam in NumPy ufuncs computes, to the bit."""

import numpy as np
import pytest

from mnistbench_numpy.adam import adam

HP = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def adam_in_ufuncs(p, g, m, v, step):
    """The same float32 operations in the same order, one NumPy pass each."""
    f = np.float32
    m += (g - m) * f(1 - HP["beta1"])
    v[...] = v * f(HP["beta2"]) + (g * g) * f(1 - HP["beta2"])
    denom = np.sqrt(v) * f(1 / (1 - HP["beta2"] ** step) ** 0.5) + f(HP["eps"])
    p -= (m / denom) * f(HP["lr"] / (1 - HP["beta1"] ** step))


def test_twenty_steps_match_the_ufunc_arithmetic_to_the_bit():
    rng = np.random.default_rng(0)
    ours = [rng.random((7, 5), dtype=np.float32), np.zeros((7, 5), np.float32)]
    ours.append(np.zeros_like(ours[1]))
    theirs = [a.copy() for a in ours]
    for step in range(1, 21):
        g = rng.standard_normal((7, 5)).astype(np.float32) * np.float32(10.0 ** -(step % 4))
        adam(ours[0], g, ours[1], ours[2], step, HP)
        adam_in_ufuncs(theirs[0], g, theirs[1], theirs[2], step)
    for name, a, b in zip("pmv", ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert not np.array_equal(ours[0], rng.random((7, 5), dtype=np.float32))


def test_the_first_step_moves_each_weight_by_about_lr_against_its_gradient():
    p = np.ones(6, np.float32)
    g = np.array([3, -2, 1e-3, -1e-3, 5, -5], np.float32)
    adam(p, g, np.zeros_like(p), np.zeros_like(p), 1, HP)
    np.testing.assert_allclose(p, 1 - 1e-3 * np.sign(g), rtol=0, atol=1e-7)


def test_a_strided_array_is_refused_rather_than_updated_in_a_copy():
    p = np.ones((4, 4), np.float32)[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous float32"):
        adam(p, np.ones_like(p), np.zeros_like(p), np.zeros_like(p), 1, HP)
