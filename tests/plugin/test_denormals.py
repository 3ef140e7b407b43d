"""flush_denormals: denormal float32 results are zero inside the block, and only there."""

import numpy as np
import pytest

from mnistbench.plugin.denormals import flush_denormals, supported

pytestmark = pytest.mark.skipif(
    not supported(), reason="flushing denormals is implemented for x86-64 Linux only"
)
TINY = np.float32(1e-20)  # TINY * TINY = 1e-40, below float32's smallest normal 1.2e-38


def test_a_denormal_product_is_zero_inside_the_block_and_denormal_after_it():
    assert TINY * TINY > 0
    with flush_denormals():
        assert TINY * TINY == 0
        assert np.array([1e-40], np.float32)[0] * np.float32(1) == 0  # denormal input read as 0
    assert TINY * TINY == np.float32(1e-40)


def test_the_register_is_restored_when_the_block_raises():
    with pytest.raises(RuntimeError), flush_denormals():
        raise RuntimeError("stop")
    assert TINY * TINY > 0


def test_numpy_arrays_flush_too():
    values = np.full(1000, 1e-20, np.float32)
    with flush_denormals():
        assert not np.any(values * values)
    assert np.all(values * values > 0)
