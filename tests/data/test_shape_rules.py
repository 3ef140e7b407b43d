"""mnistbench.data.shapes on small arrays: the exact classes, sizes, labels and messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnistbench.data.shapes import (
    MNIST,
    Conventions,
    Shape,
    class_count,
    class_labels,
    image_size,
    oriented,
)
from mnistbench.errors import MnistbenchError

TRAIN, TEST = Path("train_labels.idx"), Path("test_labels.idx")


def labels(*splits):
    return [(path, np.array(values, np.uint8)) for path, values in zip((TRAIN, TEST), splits)]


def test_a_definition_gives_its_options_with_defaults():
    read = Conventions.from_definition({"classes": 26, "label_offset": 1, "transpose": True,
                                        "image_size": [32, 24]})  # fmt: skip
    assert read == Conventions(classes=26, label_offset=1, transpose=True, image_size=(32, 24))
    assert Conventions.from_definition({}) == Conventions(None, 0, False, None)
    assert read.record() == {"label_offset": 1, "transpose": True}


def test_a_shape_counts_pixels_says_itself_and_records_itself():
    shape = Shape(32, 24, 26)
    assert shape.pixels == 768
    assert str(shape) == "26 classes of 32 x 24 images"
    assert shape.record() == {"n_classes": 26, "image_size": [32, 24]}
    assert (MNIST.rows, MNIST.cols, MNIST.classes) == (28, 28, 10)


def test_the_classes_are_the_largest_label_plus_one_after_the_offset():
    assert class_count(labels([0, 3, 1], [2]), Conventions()) == 4
    assert class_count(labels([1, 4, 2], [3]), Conventions(label_offset=1)) == 4
    assert class_count(labels([0, 1], [1]), Conventions(classes=10)) == 10


def test_a_label_at_the_declared_classes_is_refused_naming_file_label_and_index():
    with pytest.raises(MnistbenchError) as error:
        class_count(labels([0, 1], [1, 0, 3]), Conventions(classes=3))
    assert str(error.value) == f"{TEST}: label 3 at index 2 is outside 0..2 (3 classes)"


def test_a_label_past_the_classes_with_an_offset_names_the_offset():
    with pytest.raises(MnistbenchError) as error:
        class_count(labels([1, 2, 4], [1]), Conventions(classes=2, label_offset=1))
    assert str(error.value) == (
        f"{TRAIN}: label 4 at index 2 is outside 1..2 (2 classes, label_offset 1)"
    )


def test_a_label_below_the_offset_is_refused_with_the_class_it_would_be():
    with pytest.raises(MnistbenchError) as error:
        class_count(labels([2, 1, 3], [2]), Conventions(label_offset=2))
    assert str(error.value) == (
        f"{TRAIN}: label 1 at index 1 is below label_offset 2 (it would be class -1)"
    )


def test_one_class_is_nothing_to_classify():
    with pytest.raises(MnistbenchError) as error:
        class_count(labels([1, 1], [1]), Conventions(label_offset=1))
    assert str(error.value) == f"{TRAIN}: every label is 1: one class, nothing to classify"
    assert class_count(labels([0, 1], [0]), Conventions()) == 2  # two classes are enough


def test_labels_become_class_numbers_by_the_offset():
    raw = np.array([1, 3, 26], np.uint8)
    assert class_labels(raw, Conventions()) is raw
    shifted = class_labels(raw, Conventions(label_offset=1))
    assert shifted.tolist() == [0, 2, 25] and shifted.dtype == np.uint8
    assert not shifted.flags.writeable


def test_transposed_images_swap_rows_and_columns():
    images = np.arange(2 * 2 * 3).reshape(2, 2, 3)
    assert oriented(images, Conventions()) is images
    assert oriented(images, Conventions(transpose=True)).shape == (2, 3, 2)
    assert oriented(images, Conventions(transpose=True))[1, 2, 0] == images[1, 0, 2]


def test_the_image_size_must_agree_across_splits_and_with_the_declared_one():
    train, test = np.zeros((2, 4, 3)), np.zeros((1, 4, 3))
    assert image_size([(TRAIN, train), (TEST, test)], Conventions()) == (4, 3)
    with pytest.raises(MnistbenchError) as error:
        image_size([(TRAIN, train), (TEST, np.zeros((1, 3, 4)))], Conventions())
    assert str(error.value) == f"{TEST}: images are 3 x 4, but those in {TRAIN} are 4 x 3"
    with pytest.raises(MnistbenchError) as error:
        image_size([(TRAIN, train), (TEST, test)], Conventions(transpose=True, image_size=(3, 4)))
    assert str(error.value) == (
        f"{TRAIN}: images are 4 x 3 after transpose, but the dataset's image_size is 3 x 4"
    )
    with pytest.raises(MnistbenchError, match=r"images are 4 x 3, but the dataset's image_size"):
        image_size([(TRAIN, train)], Conventions(image_size=(4, 4)))
