"""The IDX reader on the real MNIST files."""

from __future__ import annotations

import hashlib

import numpy as np

from mnistbench import datasets, idx
from tests.conftest import MNIST_FILES


def test_reads_real_gzip_training_images_with_their_shape(mirror):
    images = idx.read(mirror / MNIST_FILES["train_images"]["name"])
    assert images.shape == (60000, 28, 28)
    assert images.dtype == np.uint8


def test_reads_real_test_labels_first_label_is_seven(mirror):
    labels = idx.read(mirror / MNIST_FILES["test_labels"]["name"])
    assert labels.shape == (10000,)
    assert labels[0] == 7  # the seed notebook shows test image 0 is a 7
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]


def test_parsing_does_not_copy_the_payload(mnist_dir):
    data = (mnist_dir / "train_images.idx").read_bytes()
    images = idx.parse(data)
    assert not images.flags.writeable
    assert np.shares_memory(images, np.frombuffer(data, np.uint8))


def test_fetched_dataset_matches_the_pinned_payload_digests(mnist_dir):
    for role, spec in MNIST_FILES.items():
        digest = hashlib.sha256(datasets.role_path(mnist_dir, role).read_bytes()).hexdigest()
        assert digest == spec["sha256"], role


def test_load_keeps_only_the_first_samples_when_limited(mnist_dir):
    full = datasets.load(mnist_dir)
    part = datasets.load(mnist_dir, train_limit=100, test_limit=50)
    assert part.train_images.shape == (100, 28, 28) and part.test_labels.shape == (50,)
    np.testing.assert_array_equal(part.train_images, full.train_images[:100])
