"""The IDX reader at the edges of its checks: magic bytes one at a time, the shortest inputs,
exact byte counts in the messages, and the class range of a split."""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.data import idx
from mnistbench.errors import MnistbenchError
from tests.known import write_idx


def header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + np.array(dims, ">u4").tobytes()


@pytest.mark.parametrize("magic", [b"\x01\x00", b"\x00\x01", b"\x1f\x8b"])
def test_two_bytes_of_a_wrong_magic_number_are_refused_already(magic):
    """The fetch step judges a stream's first bytes: two are enough to refuse it."""
    with pytest.raises(MnistbenchError) as error:
        idx.read_header(magic)
    assert str(error.value) == (
        f"<bytes>: not an IDX file (magic number starts 0x{magic.hex()}, expected 0x0000)"
    )


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00", b"\x00\x00\x08"])
def test_too_few_bytes_to_judge_are_no_header_yet(data):
    assert idx.read_header(data) is None


def test_parse_names_the_data_it_was_given_or_says_bytes():
    with pytest.raises(MnistbenchError, match=r"^<bytes>: not an IDX file \(only 3 bytes\)$"):
        idx.parse(b"\x00\x00\x08")
    with pytest.raises(MnistbenchError, match=r"^labels.idx: not an IDX file \(only 0 bytes\)$"):
        idx.parse(b"", "labels.idx")


def test_four_bytes_declaring_a_dimension_are_a_truncated_header():
    with pytest.raises(MnistbenchError) as error:
        idx.parse(bytes([0, 0, 8, 1]))
    assert str(error.value) == "<bytes>: truncated IDX header (4 bytes)"


def test_trailing_bytes_are_counted_exactly():
    data = header(0x08, 2, 3) + bytes(6) + b"abc"
    with pytest.raises(MnistbenchError) as error:
        idx.parse(data, "x.idx")
    assert str(error.value) == "x.idx: 3 trailing bytes after the payload of dimensions (2, 3)"


def test_a_truncated_payload_is_counted_exactly():
    with pytest.raises(MnistbenchError) as error:
        idx.parse(header(0x0B, 2, 3) + bytes(7), "x.idx")  # int16: 12 bytes needed
    assert str(error.value) == "x.idx: truncated payload: 7 bytes, dimensions (2, 3) need 12"


def test_a_header_alone_gives_the_sizes_it_declares():
    found = idx.read_header(header(0x0D, 5, 4, 3) + b"rest is not read")
    assert (found.dtype, found.shape) == (np.dtype(">f4"), (5, 4, 3))
    assert (found.header_size, found.payload_size, found.file_size) == (16, 240, 256)


@pytest.mark.parametrize("n_classes, accepted", [(10, True), (9, False)])
def test_a_split_s_labels_must_lie_below_its_number_of_classes(tmp_path, n_classes, accepted):
    images, labels = tmp_path / "images.idx", tmp_path / "labels.idx"
    write_idx(images, np.zeros((3, 28, 28), np.uint8))
    write_idx(labels, np.array([0, 9, 4], np.uint8))
    if accepted:
        _, read = idx.read_split(images, labels, n_classes)
        assert read.tolist() == [0, 9, 4]
        return
    with pytest.raises(MnistbenchError) as error:
        idx.read_split(images, labels, n_classes)
    assert str(error.value) == f"{labels}: label 9 at index 1 is outside 0..8"


def test_by_default_a_split_has_ten_classes(tmp_path):
    labels = np.array([3, 10], np.uint8)
    with pytest.raises(MnistbenchError, match=r"label 10 at index 1 is outside 0..9"):
        idx.check_split(np.zeros((2, 28, 28), np.uint8), labels, "i.idx", "l.idx")
