"""The data stage: fetching, verifying and reading MNIST-format IDX files."""
