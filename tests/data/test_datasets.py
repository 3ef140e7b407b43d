"""A dataset folder read as the train and evaluate steps read it: digests of what was read,
pinned digests per role, limits, and one line naming the file for each way it can be wrong."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.data.shapes import Conventions, Shape
from mnistbench.errors import MnistbenchError
from tests.known import write_idx


@pytest.fixture
def folder(tmp_path):
    """Train: 6 images labelled 0..5; test: 4 images labelled 9, 8, 7, 6."""
    images = np.arange(6 * 28 * 28, dtype=np.int64).reshape(6, 28, 28) % 251
    write_idx(datasets.role_path(tmp_path, "train_images"), images.astype(np.uint8))
    write_idx(datasets.role_path(tmp_path, "train_labels"), np.arange(6, dtype=np.uint8))
    write_idx(datasets.role_path(tmp_path, "test_images"), np.full((4, 28, 28), 7, np.uint8))
    write_idx(datasets.role_path(tmp_path, "test_labels"), np.array([9, 8, 7, 6], np.uint8))
    return tmp_path


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_load_reads_both_splits_and_records_each_files_digest(folder):
    data = datasets.load(folder)
    assert data.train_images.shape == (6, 28, 28) and data.train_labels.tolist() == [
        0,
        1,
        2,
        3,
        4,
        5,
    ]
    assert data.test_images.shape == (4, 28, 28) and data.test_labels.tolist() == [9, 8, 7, 6]
    assert data.sha256 == {
        role: sha256(datasets.role_path(folder, role)) for role in datasets.ROLES
    }


def test_limits_keep_the_first_samples_of_each_split(folder):
    data = datasets.load(folder, train_limit=2, test_limit=3)
    assert data.train_labels.tolist() == [0, 1] and len(data.train_images) == 2
    assert data.test_labels.tolist() == [9, 8, 7] and len(data.test_images) == 3


def test_the_digest_is_of_the_idx_bytes_even_when_the_file_is_gzip(tmp_path):
    payload = bytes([0, 0, 8, 1, 0, 0, 0, 2, 5, 6])
    path = tmp_path / "labels.idx"
    path.write_bytes(gzip.compress(payload))
    array, digest = datasets.read_file(path)
    assert array.tolist() == [5, 6] and digest == hashlib.sha256(payload).hexdigest()


def test_every_pinned_digest_that_matches_is_accepted(folder):
    pinned = {role: sha256(datasets.role_path(folder, role)) for role in datasets.ROLES}
    assert datasets.load(folder, sha256=pinned).sha256 == pinned


@pytest.mark.parametrize("role", datasets.ROLES)
def test_a_file_that_changed_since_its_digest_was_pinned_is_refused_by_name(folder, role):
    path = datasets.role_path(folder, role)
    pinned = {r: sha256(datasets.role_path(folder, r)) for r in datasets.ROLES}
    pinned[role] = "0" * 64
    with pytest.raises(MnistbenchError) as error:
        datasets.load(folder, sha256=pinned)
    assert str(error.value) == (
        f"{path}: SHA-256 {sha256(path)} differs from the pinned {'0' * 64}: the file changed "
        "after it was fetched; delete it and run again to fetch it afresh"
    )


def test_a_digest_pinned_for_an_unknown_role_is_refused(folder):
    with pytest.raises(MnistbenchError) as error:
        datasets.load(folder, sha256={"validation": "0" * 64, "extra": "1" * 64})
    assert str(error.value) == (
        "pinned digest for unknown role(s) extra, validation "
        "(roles: train_images, train_labels, test_images, test_labels)"
    )


def test_a_bad_file_is_named_in_its_error(folder):
    path = datasets.role_path(folder, "test_labels")
    path.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(MnistbenchError, match=f"^{path}: not an IDX file"):
        datasets.load(folder)


def test_the_classes_are_the_largest_label_plus_one_of_either_split(folder):
    assert datasets.load(folder).shape == Shape(28, 28, 10)  # test labels reach 9
    write_idx(datasets.role_path(folder, "test_labels"), np.array([9, 10, 7, 6], np.uint8))
    assert datasets.load(folder).shape.classes == 11


def test_a_label_past_the_declared_classes_is_refused_naming_file_label_and_index(folder):
    labels = datasets.role_path(folder, "test_labels")
    with pytest.raises(MnistbenchError) as error:
        datasets.load(folder, Conventions(classes=8))
    assert str(error.value) == f"{labels}: label 9 at index 0 is outside 0..7 (8 classes)"


def test_declared_classes_beyond_the_largest_label_are_kept(folder):
    assert datasets.load(folder, Conventions(classes=12)).shape.classes == 12


def test_a_count_mismatch_names_both_files(folder):
    labels = datasets.role_path(folder, "train_labels")
    write_idx(labels, np.arange(5, dtype=np.uint8))
    with pytest.raises(MnistbenchError) as error:
        datasets.load(folder)
    images = datasets.role_path(folder, "train_images")
    assert str(error.value) == f"{labels}: 5 labels for 6 images in {images}"


def test_labels_in_place_of_images_are_refused_naming_the_images_file(folder):
    images = datasets.role_path(folder, "test_images")
    write_idx(images, np.zeros(4, np.uint8))
    with pytest.raises(MnistbenchError) as error:
        datasets.load(folder)
    assert str(error.value) == f"{images}: expected 3-d uint8 images, got 1-d uint8"


def test_test_images_of_another_size_than_the_training_images_are_refused(folder):
    images = datasets.role_path(folder, "test_images")
    write_idx(images, np.zeros((4, 20, 24), np.uint8))
    with pytest.raises(MnistbenchError) as error:
        datasets.load(folder)
    train = datasets.role_path(folder, "train_images")
    assert str(error.value) == f"{images}: images are 20 x 24, but those in {train} are 28 x 28"
