"""Datasets of other shapes: image size from the IDX header, classes from the labels, EMNIST's
conventions (labels from 1, images column-major), images memory-mapped, and each way such a set
can be wrong refused in one line naming the file."""

from __future__ import annotations

import hashlib
import mmap

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.data.shapes import MNIST, Conventions, Shape
from mnistbench.errors import MnistbenchError
from mnistbench.variants import get_variant
from tests.cli import error_line, run_cli
from tests.known import write_idx
from tests.synthetic import LETTERS, make, synthetic_idx

LETTERS_READ = Conventions(classes=26, label_offset=1, transpose=True)


@pytest.fixture
def letters(tmp_path):
    """600 + 200 images of 32 x 32 in 26 classes, labelled 1..26, stored column-major."""
    make(tmp_path, *LETTERS)
    return tmp_path


def drawn(n: int, split: int):
    """The images and classes ``bench/synthetic_idx.py`` drew for a split, as meant to be seen."""
    rng = np.random.default_rng([0, split])
    return synthetic_idx.draw(rng, n, (32, 32), 26)


def test_letters_read_with_their_options_give_back_the_images_and_classes_drawn(letters):
    data = datasets.load(letters, LETTERS_READ)
    assert data.shape == Shape(32, 32, 26)
    for split, (images, labels) in enumerate(
        [(data.train_images, data.train_labels), (data.test_images, data.test_labels)]
    ):
        want_images, want_labels = drawn(len(images), split)
        np.testing.assert_array_equal(images, want_images)  # transposed back
        np.testing.assert_array_equal(labels, want_labels)  # 1..26 back to 0..25


def test_without_the_offset_the_labels_1_to_26_make_27_classes(letters):
    data = datasets.load(letters, Conventions(transpose=True))
    assert data.shape.classes == 27 and data.train_labels.min() >= 1


def test_without_transpose_the_images_are_the_stored_column_major_ones(letters):
    data = datasets.load(letters, Conventions(label_offset=1))
    np.testing.assert_array_equal(data.test_images, drawn(200, 1)[0].transpose(0, 2, 1))


def test_the_image_size_is_the_headers_and_a_declared_one_is_checked(tmp_path):
    make(tmp_path, "--size", "20", "24", "--classes", "5")
    assert datasets.load(tmp_path).shape == Shape(20, 24, 5)
    with pytest.raises(MnistbenchError) as error:
        datasets.load(tmp_path, Conventions(image_size=(28, 28)))
    images = datasets.role_path(tmp_path, "train_images")
    assert str(error.value) == (
        f"{images}: images are 20 x 24, but the dataset's image_size is 28 x 28"
    )


def test_planning_knows_the_shape_the_train_step_will_load(tmp_path):
    make(tmp_path, "--size", "20", "24", "--classes", "5", "--label-offset", "1", "--transpose")
    read_as = Conventions(classes=7, label_offset=1, transpose=True)  # 7: two classes never drawn
    loaded = datasets.load(tmp_path, read_as).shape
    assert loaded == Shape(20, 24, 7)
    assert datasets.describe(tmp_path, read_as) == loaded
    assert datasets.known_shape(tmp_path, read_as) == loaded
    # stored column-major, the header's size read as it stands is the transpose, 6 labels deep
    assert datasets.known_shape(tmp_path, Conventions()) == Shape(24, 20, 6)


def test_without_its_files_a_shape_is_known_only_when_the_definition_declares_it(tmp_path):
    declared = Conventions(classes=7, image_size=(20, 24))
    assert datasets.known_shape(tmp_path, declared) == Shape(20, 24, 7)
    assert datasets.known_shape(tmp_path, Conventions(classes=7)) is None
    assert datasets.known_shape(tmp_path, Conventions(image_size=(20, 24))) is None
    make(tmp_path, "--size", "20", "24", "--classes", "5")
    datasets.role_path(tmp_path, "test_labels").unlink()  # three of four files: not yet fetched
    assert datasets.known_shape(tmp_path, declared) == Shape(20, 24, 7)
    assert datasets.known_shape(tmp_path, Conventions()) is None


def test_files_that_would_be_refused_give_no_known_shape(tmp_path):
    make(tmp_path, "--size", "20", "24", "--classes", "5")
    datasets.role_path(tmp_path, "test_labels").write_bytes(b"\0\0\x08")
    assert datasets.known_shape(tmp_path, Conventions(classes=7, image_size=(20, 24))) is None


def test_describe_names_the_file_a_problem_is_in(tmp_path):
    make(tmp_path, "--size", "20", "24", "--classes", "5", train=10, test=10)
    labels = datasets.role_path(tmp_path, "test_labels")
    write_idx(labels, np.zeros(9, np.uint8))  # 9 labels for 10 images
    with pytest.raises(MnistbenchError, match=f"^{labels}: 9 labels for 10 images in "):
        datasets.describe(tmp_path)


def test_a_header_that_disagrees_with_the_labels_is_refused_naming_both(letters):
    labels = datasets.role_path(letters, "train_labels")
    write_idx(labels, np.ones(599, np.uint8))
    with pytest.raises(MnistbenchError) as error:
        datasets.load(letters, LETTERS_READ)
    images = datasets.role_path(letters, "train_images")
    assert str(error.value) == f"{labels}: 599 labels for 600 images in {images}"


def test_a_label_past_the_classes_is_refused_naming_file_label_and_index(letters):
    labels = datasets.role_path(letters, "test_labels")
    write_idx(labels, np.array([1, 26, 27] + [5] * 197, np.uint8))
    with pytest.raises(MnistbenchError) as error:
        datasets.load(letters, LETTERS_READ)
    assert str(error.value) == (
        f"{labels}: label 27 at index 2 is outside 1..26 (26 classes, label_offset 1)"
    )


def test_an_offset_that_leaves_a_label_negative_is_refused(letters):
    labels = datasets.role_path(letters, "test_labels")
    write_idx(labels, np.array([3, 0] + [5] * 198, np.uint8))
    with pytest.raises(MnistbenchError) as error:
        datasets.load(letters, LETTERS_READ)
    assert str(error.value) == (
        f"{labels}: label 0 at index 1 is below label_offset 1 (it would be class -1)"
    )


def test_a_dataset_of_one_class_is_refused(tmp_path):
    make(tmp_path, "--classes", "1")
    with pytest.raises(MnistbenchError, match="every label is 0: one class, nothing to classify"):
        datasets.load(tmp_path)


def mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a memory mapping (its chain of bases ends in one)."""
    while array is not None and not isinstance(array, mmap.mmap):
        array = array.base
    return array is not None


def test_images_are_memory_mapped_and_a_subset_is_a_view_of_the_mapping(letters):
    data = datasets.load(letters, LETTERS_READ, train_limit=100)
    assert mapped(data.train_images) and mapped(data.test_images)
    assert len(data.train_images) == 100 and not data.train_images.flags.writeable


def test_the_digest_of_a_mapped_file_is_of_its_bytes(letters):
    path = datasets.role_path(letters, "train_images")
    _, digest = datasets.read_file(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def train(data, out, *options: str):
    return run_cli(
        *("train", "--data", str(data), "--dataset", "letters", "--variant", "mlp"),
        *("--backend", "numpy", "--seed", "0", "--out", str(out), *options),
    )


@pytest.mark.parametrize(
    "labels, problem",
    [
        ([1, 27] + [2] * 198, "label 27 at index 1 is outside 1..26 (26 classes, label_offset 1)"),
        ([1, 0] + [2] * 198, "label 0 at index 1 is below label_offset 1 (it would be class -1)"),
        ([1], "1 labels for 200 images in"),
    ],
    ids=["label_past_the_classes", "offset_leaves_a_label_negative", "count_disagrees"],
)
def test_train_refuses_bad_labels_in_one_line_and_writes_nothing(
    letters, tmp_path, labels, problem
):
    path = datasets.role_path(letters, "test_labels")
    write_idx(path, np.array(labels, np.uint8))
    options = ["--classes", "26", "--label-offset", "1", "--transpose"]
    result = train(letters, tmp_path / "run", *options)
    line = error_line(result, "train")
    assert line.startswith(f"mnistbench train: error: {path}: ") and problem in line
    assert not (tmp_path / "run").exists()


def test_train_refuses_an_image_size_the_header_does_not_have(letters, tmp_path):
    options = ["--classes", "26", "--label-offset", "1", "--transpose", "--image-size", "28", "28"]
    line = error_line(train(letters, tmp_path / "run", *options), "train")
    images = datasets.role_path(letters, "train_images")
    assert line == (
        f"mnistbench train: error: {images}: images are 32 x 32 after transpose, but the "
        "dataset's image_size is 28 x 28"
    )


@pytest.mark.parametrize("name", ["mlp", "sigmoid_mlp", "dropout_mlp", "predictive_coding"])
def test_a_variant_takes_one_input_per_pixel_and_gives_one_output_per_class(name):
    variant = get_variant(name)
    hp = variant.hyperparameters()
    weights = variant.initial_weights(np.random.default_rng(0), hp, Shape(32, 32, 26))
    assert weights["W1"].shape == (1024, hp["hidden"]) and weights["W2"].shape[1] == 26
    sizes = {k: v.shape for k, v in weights.items()}
    assert sizes == variant.weight_shapes(hp, Shape(32, 32, 26))
    assert variant.takes(Shape(32, 32, 26)) is None


def test_mnn_counts_pixels_bias_hidden_and_classes_and_takes_any_shape():
    mnn = get_variant("mnn")
    hp = mnn.hyperparameters()
    assert mnn.weight_shapes(hp, Shape(32, 32, 26)) == {"A": (1151, 1151)}  # 1024 + 1 + 100 + 26
    assert mnn.refuses(MNIST) is None
    assert mnn.refuses(Shape(32, 32, 26)) is None
