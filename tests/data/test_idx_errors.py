"""Bad IDX files, built byte by byte: each is refused with one line naming the file and the problem.

A small valid dataset (20 training and 10 test images of 28x28) is written into a directory the
way the fetch step leaves it; each case then breaks one file. The reader (``idx.read_split``)
must raise :class:`MnistbenchError`; the train command must exit 1 with that one line and write
nothing; the fetch command, whose pinned digest is the bad file's own, must refuse what it can
see in one file alone (header, dtype, payload length).
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mnistbench.data import datasets, idx
from mnistbench.errors import MnistbenchError
from tests.cli import error_line, run_cli

N_TRAIN, N_TEST, SIDE = 20, 10, 28


def idx_bytes(dims, payload: bytes, code: int = 0x08, magic: bytes = b"\0\0") -> bytes:
    """An IDX file: magic, dtype code, number of dimensions, big-endian uint32 dims, payload."""
    return magic + bytes([code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def pixels(n: int) -> bytes:
    return np.random.default_rng(n).integers(0, 256, (n, SIDE, SIDE), np.uint8).tobytes()


def images(n: int) -> bytes:
    return idx_bytes((n, SIDE, SIDE), pixels(n))


def labels(values) -> bytes:
    values = list(values)
    return idx_bytes((len(values),), bytes(values))


GOOD = {
    "train_images": images(N_TRAIN),
    "train_labels": labels(i % 10 for i in range(N_TRAIN)),
    "test_images": images(N_TEST),
    "test_labels": labels(range(N_TEST)),
}

# case: (the role whose file is broken, its bytes, what the error must say)
CASES = {
    "wrong_magic": (  # a header written little-endian
        "train_images",
        struct.pack("<4I", 0x0803, N_TRAIN, SIDE, SIDE) + pixels(N_TRAIN),
        "not an IDX file (magic number starts 0x0308, expected 0x0000)",
    ),
    "unknown_dtype_code": (
        "train_labels",
        idx_bytes((N_TRAIN,), bytes(N_TRAIN), code=0x07),
        "unknown IDX dtype code 0x07",
    ),
    "dtype_not_uint8": (
        "test_labels",
        idx_bytes((N_TEST,), np.arange(N_TEST, dtype=">i4").tobytes(), code=0x0C),
        "expected 1-d uint8 labels, got 1-d >i4",
    ),
    "short_payload": (
        "train_images",
        images(N_TRAIN)[:-100],
        f"truncated payload: {N_TRAIN * SIDE * SIDE - 100} bytes, dimensions "
        f"({N_TRAIN}, {SIDE}, {SIDE}) need {N_TRAIN * SIDE * SIDE}",
    ),
    "trailing_bytes": (
        "test_images",
        images(N_TEST) + b"\0" * 5,
        f"5 trailing bytes after the payload of dimensions ({N_TEST}, {SIDE}, {SIDE})",
    ),
    "count_mismatch": (
        "train_labels",
        labels(i % 10 for i in range(N_TRAIN - 1)),
        f"{N_TRAIN - 1} labels for {N_TRAIN} images in ",
    ),
    "label_out_of_range": (
        "test_labels",
        labels([0, 1, 2, 10, 4, 5, 6, 7, 8, 9]),
        "label 10 at index 3 is outside 0..9",
    ),
    "zero_items": (
        "train_images",
        idx_bytes((0, SIDE, SIDE), b""),
        "holds zero items",
    ),
    "wrong_dimensions": (
        "train_images",
        idx_bytes((N_TRAIN, SIDE * SIDE), pixels(N_TRAIN)),
        "expected 3-d uint8 images, got 2-d uint8",
    ),
    "zero_dimensions": ("test_labels", b"\0\0\x08\0", "IDX header declares zero dimensions"),
    "truncated_header": ("test_images", images(N_TEST)[:10], "truncated IDX header (10 bytes)"),
    "empty_file": ("test_labels", b"", "not an IDX file (only 0 bytes)"),
}
# The cases a file shows on its own (the rest need the role or the other file of the split).
STRUCTURAL = [
    "wrong_magic",
    "unknown_dtype_code",
    "short_payload",
    "trailing_bytes",
    "zero_items",
    "zero_dimensions",
    "truncated_header",
    "empty_file",
]


def write_dataset(directory: Path, **replace: bytes) -> Path:
    """The valid synthetic dataset in ``directory``, with ``replace``'d roles' bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    for role, data in {**GOOD, **replace}.items():
        datasets.role_path(directory, role).write_bytes(data)
    return directory


def split_paths(directory: Path, role: str) -> tuple[Path, Path]:
    split = role.split("_")[0]
    return (
        datasets.role_path(directory, f"{split}_images"),
        datasets.role_path(directory, f"{split}_labels"),
    )


def train(data: Path, out: Path) -> subprocess.CompletedProcess:
    return run_cli(
        "train",
        "--data",
        str(data),
        "--dataset",
        "synthetic",
        "--variant",
        "mlp",
        "--backend",
        "numpy",
        "--seed",
        "0",
        "--out",
        str(out),
        "--hparams",
        '{"epochs": 1}',
        "--classes",  # as the definition declares: a label past them is refused
        "10",
    )


def test_the_synthetic_dataset_is_valid(tmp_path):
    data = datasets.load(write_dataset(tmp_path / "data"))
    assert data.train_images.shape == (N_TRAIN, SIDE, SIDE) and data.test_labels.shape == (N_TEST,)


def test_train_accepts_the_synthetic_dataset(tmp_path):
    result = train(write_dataset(tmp_path / "data"), tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run" / "weights.npz").is_file()


@pytest.mark.parametrize("case", CASES)
def test_reader_raises_one_line_naming_the_file_and_problem(tmp_path, case):
    role, data, problem = CASES[case]
    directory = write_dataset(tmp_path / "data", **{role: data})
    with pytest.raises(MnistbenchError) as raised:
        idx.read_split(*split_paths(directory, role))
    message = str(raised.value)
    assert message.startswith(f"{datasets.role_path(directory, role)}: ")
    assert problem in message and "\n" not in message


@pytest.mark.parametrize("case", STRUCTURAL)
@pytest.mark.parametrize(
    "name, reader",
    [
        ("bad-idx-ubyte.gz", idx.read),
        ("bad-idx-ubyte.gz", idx.open_array),
        ("bad-idx-ubyte", idx.read),
        ("bad-idx-ubyte", idx.open_array),  # memory-mapped: its header is checked on its own
    ],
    ids=["gz-read", "gz-open", "plain-read", "plain-open"],
)
def test_each_reader_names_the_file_plain_or_compressed(tmp_path, case, name, reader):
    _, data, problem = CASES[case]
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    with pytest.raises(MnistbenchError, match="^" + str(path) + ": ") as raised:
        reader(path)
    assert problem in str(raised.value)


@pytest.mark.parametrize("reader", [idx.read, idx.open_array], ids=["read", "open"])
def test_a_path_that_cannot_be_read_is_one_line_saying_why(tmp_path, reader):
    missing, folder = tmp_path / "absent-idx-ubyte", tmp_path
    with pytest.raises(MnistbenchError) as raised:
        reader(missing)
    assert str(raised.value) == f"{missing}: cannot read (No such file or directory)"
    with pytest.raises(MnistbenchError) as raised:
        reader(folder)
    assert str(raised.value) == f"{folder}: cannot read (Is a directory)"


def test_only_a_file_that_starts_with_gzips_magic_number_is_gzip(tmp_path):
    plain, compressed = tmp_path / "plain", tmp_path / "compressed"
    plain.write_bytes(GOOD["test_labels"])
    compressed.write_bytes(gzip.compress(GOOD["test_labels"], mtime=0))
    assert idx.is_gzip(compressed)
    assert (
        not idx.is_gzip(plain)
        and not idx.is_gzip(tmp_path / "absent")
        and not idx.is_gzip(tmp_path)
    )


def test_a_file_of_empty_images_opens_with_its_shape(tmp_path):
    path = tmp_path / "empty-images-idx3-ubyte"
    path.write_bytes(idx_bytes((3, 0, SIDE), b""))  # three images of no rows: no payload to map
    opened = idx.open_array(path)
    assert opened.shape == (3, 0, SIDE) and opened.dtype == np.uint8
    assert idx.read(path).shape == (3, 0, SIDE)


def test_missing_file_is_one_line_not_a_traceback(tmp_path):
    directory = write_dataset(tmp_path / "data")
    datasets.role_path(directory, "test_labels").unlink()
    with pytest.raises(MnistbenchError) as raised:
        datasets.load(directory)
    assert str(raised.value) == (
        f"{datasets.role_path(directory, 'test_labels')}: cannot read (No such file or directory)"
    )


@pytest.mark.parametrize("truncate", [False, True], ids=["garbage", "truncated"])
def test_corrupt_gzip_is_one_line_naming_the_file(tmp_path, truncate):
    valid = gzip.compress(GOOD["test_labels"], mtime=0)
    data = valid[: len(valid) // 2] if truncate else valid[:10] + b"\xff" * 40
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(MnistbenchError) as raised:
        idx.read(path)
    assert str(raised.value).startswith(f"{path}: corrupt gzip data (")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("case", CASES)
def test_train_exits_1_with_one_line_and_writes_nothing(tmp_path, case):
    role, data, problem = CASES[case]
    directory = write_dataset(tmp_path / "data", **{role: data})
    result = train(directory, tmp_path / "run")
    assert result.returncode == 1
    line = error_line(result, "train")
    assert line.startswith(f"mnistbench train: error: {datasets.role_path(directory, role)}: ")
    assert problem in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("case", STRUCTURAL)
def test_fetch_refuses_a_bad_file_even_when_its_digest_is_pinned(tmp_path, case):
    _, data, problem = CASES[case]
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "bad-idx-ubyte.gz").write_bytes(gzip.compress(data, mtime=0))
    out = tmp_path / "resources" / "bad.idx"
    result = run_cli(
        "fetch",
        "--file",
        "bad-idx-ubyte.gz",
        "--mirror",
        str(mirror),
        "--sha256",
        hashlib.sha256(data).hexdigest(),
        "--out",
        str(out),
    )
    assert result.returncode == 1
    line = error_line(result, "fetch")
    assert line.startswith(
        f"mnistbench fetch: error: bad-idx-ubyte.gz: every mirror failed: {mirror} ("
    )
    if case == "trailing_bytes":  # fetch stops at the header's size, not knowing how many follow
        problem = f"trailing bytes after the payload of dimensions ({N_TEST}, {SIDE}, {SIDE})"
    assert f"(bad-idx-ubyte.gz: {problem}" in line
    assert not out.exists() and list(out.parent.iterdir()) == []
