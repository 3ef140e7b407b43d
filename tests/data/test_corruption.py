"""Property: every truncated or bit-flipped variant of a real file is refused in one line or read
exactly, by each reader the steps use.

A seeded loop (the seed fixes every variant, so a failure reproduces) cuts real files at many
lengths and flips single bits all over them: every bit of their headers (and trailers), and bits
drawn at random elsewhere. The readers: the IDX reader on plain files with the pinned digest, as
train and evaluate read them; the IDX reader on the mirrors' ``.gz`` files, which carry a CRC;
the fetch step's streaming verifier on those ``.gz`` files; and the weights loader on a real
``.npz``. A refusal must be a :class:`MnistbenchError` of one line that names the file; anything
else (another exception, a wrong array) fails the test.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from mnistbench.data import datasets, fetch, idx
from mnistbench.errors import MnistbenchError
from mnistbench.training import weights_file
from mnistbench.variants import get_variant, random_streams
from tests.conftest import SAMPLE_FILES

SEED = 20261124
RANDOM_CUTS, RANDOM_FLIPS = 40, 150


def variants(data: bytes, every: list[range], seed: int) -> Iterator[tuple[str, bytes]]:
    """(what was done, the bytes): cuts at every length in ``every`` and at random lengths; a
    flip of every bit of the bytes in ``every`` and of random bits elsewhere."""
    rng = np.random.default_rng([SEED, seed])
    exhaustive = sorted({i for span in every for i in span if 0 <= i < len(data)})
    cuts = {*exhaustive, len(data) - 1, *(int(n) for n in rng.integers(0, len(data), RANDOM_CUTS))}
    for n in sorted(cuts):
        yield f"cut to {n} bytes", data[:n]
    positions = [(i, bit) for i in exhaustive for bit in range(8)]
    spots, bits = rng.integers(0, len(data), RANDOM_FLIPS), rng.integers(0, 8, RANDOM_FLIPS)
    positions += [(int(i), int(bit)) for i, bit in zip(spots, bits)]
    for i, bit in positions:
        flipped = bytearray(data)
        flipped[i] ^= 1 << bit
        yield f"bit {bit} of byte {i} flipped", bytes(flipped)


def check_property(
    original: bytes, every: list[range], seed: int, path: Path, read: Callable[[Path], object], same
) -> dict[str, int]:
    """Write each variant to ``path`` and read it: refused in one line naming ``path``, or
    ``same(result)``. Returns how many variants were refused and how many read exactly."""
    counts = {"refused": 0, "exact": 0}
    for what, data in variants(original, every, seed):
        path.write_bytes(data)
        try:
            result = read(path)
        except MnistbenchError as error:
            message = str(error)
            assert "\n" not in message and str(path.name) in message, (what, message)
            counts["refused"] += 1
            continue
        assert same(result), f"{what}: read without error but not exactly"
        counts["exact"] += 1
    return counts


@pytest.mark.parametrize("role", ["test_labels", "test_images"])
def test_idx_files_with_their_pinned_digest_are_refused_or_read_exactly(tmp_path, mirror, role):
    raw = gzip.decompress((mirror / SAMPLE_FILES[role]["name"]).read_bytes())
    pinned, original = SAMPLE_FILES[role]["sha256"], idx.parse(raw)

    def read(path):
        return datasets.read_file(path, pinned)[0]

    counts = check_property(
        raw, [range(32)], 1, tmp_path / f"{role}.idx", read, lambda a: np.array_equal(a, original)
    )
    assert counts["refused"] > 0


@pytest.mark.parametrize("role", ["test_labels", "test_images"])
def test_idx_files_are_refused_in_one_line_when_cut_short_even_without_a_digest(
    tmp_path, mirror, role
):
    raw = gzip.decompress((mirror / SAMPLE_FILES[role]["name"]).read_bytes())
    path = tmp_path / f"{role}.idx"
    for n in sorted({*range(20), *np.random.default_rng([SEED, 2]).integers(0, len(raw), 50)}):
        path.write_bytes(raw[:n])
        with pytest.raises(MnistbenchError) as error:
            idx.read(path)
        assert "\n" not in str(error.value) and path.name in str(error.value)


@pytest.mark.parametrize("role", ["test_labels", "test_images"])
def test_gzip_idx_files_are_refused_or_read_exactly(tmp_path, mirror, role):
    gz = (mirror / SAMPLE_FILES[role]["name"]).read_bytes()
    original = idx.read(mirror / SAMPLE_FILES[role]["name"])
    counts = check_property(
        gz, [range(24), range(len(gz) - 8, len(gz))], 3, tmp_path / SAMPLE_FILES[role]["name"],
        idx.read,
        lambda a: np.array_equal(a, original) and a.dtype == original.dtype,
    )  # fmt: skip
    assert counts["refused"] > 0 and counts["exact"] > 0  # gzip's mtime and OS bytes are free


def test_the_fetch_step_refuses_or_writes_exactly_each_damaged_gz(tmp_path, mirror):
    spec = SAMPLE_FILES["test_labels"]
    gz = (mirror / spec["name"]).read_bytes()
    source, out = tmp_path / "mirror", tmp_path / "resources" / "test_labels.idx"
    source.mkdir()
    expected = gzip.decompress(gz)

    def read(path):
        out.unlink(missing_ok=True)
        try:
            fetch.fetch(spec["name"], spec["sha256"], out, [str(source)], size=len(expected))
        except MnistbenchError as error:
            raise MnistbenchError(f"{path.name}: {error}") from None
        return out.read_bytes()

    every = [range(24), range(len(gz) - 8, len(gz))]  # gzip's header and trailer
    counts = check_property(gz, every, 4, source / spec["name"], read, lambda b: b == expected)
    assert counts["refused"] > 0
    assert sorted(p.name for p in out.parent.iterdir()) in ([], [out.name])  # no temporary file


@pytest.fixture(scope="module")
def saved_weights(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray], dict]:
    """A real weights file as the train step writes it: mlp's initial weights, 16 hidden units."""
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"hidden": 16})
    weights = variant.initial_weights(random_streams(5)[0], hp)
    path = weights_file.save(tmp_path_factory.mktemp("weights"), "weights.npz", weights)
    return path, weights, variant.weight_shapes(hp)


def test_weights_files_are_refused_or_read_exactly(tmp_path, saved_weights):
    path, weights, shapes = saved_weights
    original = path.read_bytes()

    def same(loaded):
        return loaded.keys() == weights.keys() and all(
            np.array_equal(loaded[k], weights[k]) and loaded[k].dtype == weights[k].dtype
            for k in weights
        )

    def read(p):
        return weights_file.load(p, shapes)

    # Every bit of the first member's headers (zip, then .npy) and of the central directory.
    every = [range(30 + len("W1.npy") + 128), range(len(original) - 200, len(original))]
    counts = check_property(original, every, 6, tmp_path / "weights.npz", read, same)
    assert counts["refused"] > 0 and counts["exact"] > 0
