"""Weights archives in the process: saved as float32 and read back exactly, and the one line
for each way an archive can be wrong (a missing, unexpected or reshaped weight, integers or
objects, not an archive at all, damage, bytes after an array, a .npy version it does not read)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.training import weights_file

SHAPES = {"W1": (3, 2), "b1": (2,)}
WEIGHTS = {"W1": np.arange(6, dtype=np.float64).reshape(3, 2) / 7, "b1": np.array([0.5, -1.0])}


def test_weights_are_saved_as_float32_and_read_back_exactly(tmp_path):
    path = weights_file.save(tmp_path, "w.npz", WEIGHTS)
    loaded = weights_file.load(path, SHAPES)
    assert sorted(loaded) == ["W1", "b1"]
    for key, value in WEIGHTS.items():
        assert loaded[key].dtype == np.float32
        np.testing.assert_array_equal(loaded[key], value.astype(np.float32))


def refused(path, shapes=SHAPES) -> str:
    with pytest.raises(MnistbenchError) as error:
        weights_file.load(path, shapes)
    return str(error.value)


def test_a_missing_or_unexpected_weight_names_it_and_what_the_archive_holds(tmp_path):
    path = weights_file.save(tmp_path, "w.npz", WEIGHTS)
    assert refused(path, {**SHAPES, "W2": (2, 1), "b2": (1,)}) == (
        f"{path}: weight 'W2', 'b2' missing (the archive holds W1, b1); train the run again"
    )
    assert refused(path, {"W1": (3, 2)}) == (
        f"{path}: unexpected weight 'b1' (the variant has W1); train the run again"
    )
    more = weights_file.save(
        tmp_path, "more.npz", {**WEIGHTS, "W2": np.zeros(1), "b2": np.zeros(1)}
    )
    assert refused(more) == (
        f"{more}: unexpected weight 'W2', 'b2' (the variant has W1, b1); train the run again"
    )
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    assert refused(empty) == (
        f"{empty}: weight 'W1', 'b1' missing (the archive holds nothing); train the run again"
    )


def test_a_weight_of_another_shape_names_both_shapes(tmp_path):
    path = weights_file.save(tmp_path, "w.npz", WEIGHTS)
    assert refused(path, {"W1": (2, 3), "b1": (2,)}) == (
        f"{path}: weight 'W1' has shape (3, 2), the run's variant and hyperparameters need "
        "(2, 3); train the run again"
    )


def test_integer_or_object_arrays_are_refused_as_not_floating_point(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, W1=np.zeros((3, 2), np.int32), b1=np.zeros(2))
    assert refused(path) == (
        f"{path}: weight 'W1' holds int32 values, not floating point; refusing it (weights are "
        "plain float arrays)"
    )
    np.savez(path, W1=np.zeros((3, 2)), b1=np.array([None, 1], dtype=object))
    assert "weight 'b1' holds object values, not floating point" in refused(path)


def test_a_file_that_is_not_an_archive_says_how_it_starts(tmp_path):
    path = tmp_path / "w.npz"
    path.write_bytes(b"\x93NUMPY rest")
    assert refused(path) == (
        f"{path}: not a weights file (an .npz archive starts with 'PK', this one with "
        "0x934e554d); train the run again"
    )
    path.write_bytes(b"")
    assert refused(path).endswith("this one with 0xnothing); train the run again")
    assert refused(tmp_path).startswith(f"{tmp_path}: cannot read weights (Is a directory")


def test_a_damaged_archive_is_named_with_the_first_line_of_its_error(tmp_path):
    path = weights_file.save(tmp_path, "w.npz", WEIGHTS)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    message = refused(path)
    assert message.startswith(f"{path}: the weights archive is damaged or truncated (BadZipFile: ")
    assert message.endswith("); train the run again") and "\n" not in message


def test_bytes_after_an_array_inside_its_member_are_refused(tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros((3, 2)))
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W1.npy", buffer.getvalue() + b"tail")
        b1 = io.BytesIO()
        np.lib.format.write_array(b1, np.zeros(2))
        archive.writestr("b1.npy", b1.getvalue())
    assert refused(path) == (
        f"{path}: the weights archive is damaged or truncated (ValueError: 4 bytes after the "
        "array in W1.npy); train the run again"
    )


def test_a_member_in_a_npy_format_this_reader_does_not_know_is_named(tmp_path):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in WEIGHTS.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, value, version=(3, 0) if name == "b1" else None)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    assert refused(path) == (
        f"{path}: the weights archive is damaged or truncated (ValueError: b1.npy: unsupported "
        ".npy format version (3, 0)); train the run again"
    )
