"""SGD applies W -= lr * a.T @ d on either path: the in-place BLAS update (C-contiguous float32)
and the plain one (any other weights, such as float64 in gradient checks)."""

import numpy as np
import pytest

from mnistbench_numpy.updates import Outer, sgd


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_subtracts_lr_times_the_outer_product_and_the_plain_gradients(dtype):
    rng = np.random.default_rng(0)
    a, d = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    w = {"W": rng.standard_normal((4, 3)).astype(dtype), "b": np.ones(3, dtype)}
    expected_W = w["W"].astype(np.float64) - 0.1 * (a.T @ d)
    sgd(w, {"W": Outer(a.astype(dtype), d.astype(dtype)), "b": np.full(3, 2.0, dtype)}, 0.1)
    assert w["W"].dtype == dtype
    np.testing.assert_allclose(w["W"], expected_W, rtol=1e-5)
    np.testing.assert_allclose(w["b"], 0.8, rtol=1e-6)
