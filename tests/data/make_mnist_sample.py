"""Cut the MNIST sample in ``tests/data/mnist-sample`` from a full MNIST mirror directory.

    python tests/data/make_mnist_sample.py MIRROR_DIR

Keeps the first 3,000 training and 1,000 test items of each file, rewrites the IDX header's item
count, compresses with ``gzip -9`` and no timestamp (so the output is byte-for-byte repeatable),
and prints the digests that ``dataset.yaml`` pins.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

from mnistbench.data import idx

KEEP = {
    "train-images-idx3-ubyte.gz": 3000,
    "train-labels-idx1-ubyte.gz": 3000,
    "t10k-images-idx3-ubyte.gz": 1000,
    "t10k-labels-idx1-ubyte.gz": 1000,
}
OUT = Path(__file__).resolve().parent / "mnist-sample"


def cut(data: bytes, items: int) -> bytes:
    """The IDX file ``data`` with only its first ``items`` items."""
    array = idx.parse(data)
    header = data[:4] + np.array([items, *array.shape[1:]], ">u4").tobytes()
    return header + array[:items].tobytes()


def main(mirror: Path) -> None:
    for name, items in KEEP.items():
        payload = cut(idx.read_bytes(mirror / name), items)
        packed = gzip.compress(payload, compresslevel=9, mtime=0)
        (OUT / name).write_bytes(packed)
        print(f"{name}: sha256 {hashlib.sha256(payload).hexdigest()}")
        print(f"{name}: gz_sha256 {hashlib.sha256(packed).hexdigest()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
