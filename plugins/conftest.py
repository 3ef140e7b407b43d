"""The core suite's data fixtures (the MNIST sample, fetched as a user would) for the backend
plugins' own tests."""

from tests.conftest import mnist_slice, sample_dir  # noqa: F401
