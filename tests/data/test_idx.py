"""The IDX reader on real MNIST files: the sample in the repo, and full MNIST where a mirror is."""

from __future__ import annotations

import hashlib

import numpy as np

from mnistbench.data import datasets, idx
from tests.conftest import MNIST_FILES, SAMPLE_FILES, SAMPLE_TEST, SAMPLE_TRAIN


def test_reads_the_samples_gzip_training_images_with_their_shape(mirror):
    images = idx.read(mirror / SAMPLE_FILES["train_images"]["name"])
    assert images.shape == (SAMPLE_TRAIN, 28, 28)
    assert images.dtype == np.uint8


def test_reads_the_samples_test_labels_first_label_is_seven(mirror):
    labels = idx.read(mirror / SAMPLE_FILES["test_labels"]["name"])
    assert labels.shape == (SAMPLE_TEST,)
    assert labels[0] == 7  # the source notebook shows test image 0 is a 7
    assert np.bincount(labels).tolist()[:3] == [85, 126, 116]


def test_reads_full_mnist_with_its_shapes_and_class_counts(full_mirror):
    images = idx.read(full_mirror / MNIST_FILES["train_images"]["name"])
    labels = idx.read(full_mirror / MNIST_FILES["test_labels"]["name"])
    assert images.shape == (60000, 28, 28)
    assert labels.shape == (10000,)
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]


def test_the_sample_is_the_head_of_full_mnist(full_mirror, mirror):
    for role, spec in SAMPLE_FILES.items():
        full = idx.read(full_mirror / MNIST_FILES[role]["name"])
        sample = idx.read(mirror / spec["name"])
        np.testing.assert_array_equal(sample, full[: len(sample)], err_msg=role)


def test_parsing_does_not_copy_the_payload(sample_dir):
    data = (sample_dir / "train_images.idx").read_bytes()
    images = idx.parse(data)
    assert not images.flags.writeable
    assert np.shares_memory(images, np.frombuffer(data, np.uint8))


def test_fetched_dataset_matches_the_pinned_payload_digests(sample_dir):
    for role, spec in SAMPLE_FILES.items():
        digest = hashlib.sha256(datasets.role_path(sample_dir, role).read_bytes()).hexdigest()
        assert digest == spec["sha256"], role


def test_the_samples_gz_files_match_their_pinned_digests(mirror):
    for role, spec in SAMPLE_FILES.items():
        digest = hashlib.sha256((mirror / spec["name"]).read_bytes()).hexdigest()
        assert digest == spec["gz_sha256"], role


def test_load_keeps_only_the_first_samples_when_limited(sample_dir):
    full = datasets.load(sample_dir)
    part = datasets.load(sample_dir, train_limit=100, test_limit=50)
    assert part.train_images.shape == (100, 28, 28) and part.test_labels.shape == (50,)
    np.testing.assert_array_equal(part.train_images, full.train_images[:100])
