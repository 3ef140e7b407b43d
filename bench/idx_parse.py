"""python bench/idx_parse.py [MIRROR_DIR] [--repeat 5]

How long verifying (SHA-256 against the digests pinned in config/config.yaml) and parsing all
70,000 MNIST images and labels takes, on the real files of a local mirror: MIRROR_DIR, else the
first directory in MNISTBENCH_MIRROR.

Cases, each over the four files, each timed ``--repeat`` times (median and best reported):

- ``idx``: the decompressed files as the fetch step leaves them in resources/ (decompressed into
  a temporary directory first, untimed): read, SHA-256, parse and check.
- ``gz``: the same from the mirror's .gz files, decompression included.
- ``sha256``: the digest check alone: read the four files of resources/ and hash them.
- ``datasets.load``: what the train and evaluate steps call on resources/: read, check each
  file's digest against the pinned one, parse, check both splits together.
- ``fetch``: the fetch step from the mirror directory: stream, decompress, bound by the pinned
  size, SHA-256, check the IDX structure, rename into place.

Prints a table and writes bench/out/idx_parse.csv.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from mnistbench.data import datasets, fetch, idx

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "idx_parse.csv"


def default_mirror() -> Path:
    for entry in os.environ.get(fetch.MIRROR_ENV, "").split():
        if Path(entry).is_dir():
            return Path(entry)
    sys.exit(f"idx_parse: name a local MNIST mirror: MIRROR_DIR, or {fetch.MIRROR_ENV}")


def verify_and_parse(paths: dict[str, Path], pinned: dict[str, str]) -> int:
    """Read, verify and parse the four files, as the reader does; return the number of images."""
    arrays = {}
    for role, path in paths.items():
        data = idx.read_bytes(path)
        actual = hashlib.sha256(data).hexdigest()
        if actual != pinned[role]:
            sys.exit(f"{path}: SHA-256 {actual}, expected {pinned[role]}")
        arrays[role] = idx.parse(data, path)
        assert np.shares_memory(arrays[role], np.frombuffer(data, np.uint8)), "parse copied"
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        assert images.ndim == 3 and len(images) == len(labels) and labels.max() < 10
    return len(arrays["train_images"]) + len(arrays["test_images"])


def hash_only(paths: dict[str, Path]) -> None:
    for path in paths.values():
        hashlib.sha256(path.read_bytes()).hexdigest()


def load_and_check(resources: Path, pinned: dict[str, str]) -> int:
    data = datasets.load(resources, sha256=pinned)
    return len(data.train_images) + len(data.test_images)


def fetch_all(mirror: Path, specs: dict, scratch: Path) -> None:
    for role, spec in specs.items():
        out = datasets.role_path(scratch, role)
        fetch.fetch(spec["name"], spec["sha256"], out, [str(mirror)], size=spec.get("size"))


def timed(function, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mirror", nargs="?", type=Path, default=default_mirror())
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    specs = config["dataset_definitions"]["mnist"]["files"]
    pinned = {role: spec["sha256"] for role, spec in specs.items()}
    gz_paths = {role: args.mirror / spec["name"] for role, spec in specs.items()}
    missing = [str(p) for p in gz_paths.values() if not p.is_file()]
    if missing:
        sys.exit(f"no MNIST files at {args.mirror}: missing {', '.join(missing)}")

    with tempfile.TemporaryDirectory(prefix="idx_parse.") as tmp:
        resources = Path(tmp) / "resources"
        resources.mkdir()
        idx_paths = {role: datasets.role_path(resources, role) for role in specs}
        for role, path in idx_paths.items():  # untimed: as the fetch step leaves them
            path.write_bytes(gzip.decompress(gz_paths[role].read_bytes()))
        payload_mb = sum(p.stat().st_size for p in idx_paths.values()) / 1e6
        images = verify_and_parse(idx_paths, pinned)

        cases = {
            "idx": lambda: verify_and_parse(idx_paths, pinned),
            "gz": lambda: verify_and_parse(gz_paths, pinned),
            "sha256": lambda: hash_only(idx_paths),
            "datasets.load": lambda: load_and_check(resources, pinned),
            "fetch": lambda: fetch_all(args.mirror, specs, Path(tempfile.mkdtemp(dir=tmp))),
        }
        rows = []
        for case, function in cases.items():
            seconds = timed(function, args.repeat)
            median = statistics.median(seconds)
            rows.append(
                {
                    "case": case,
                    "images": images,
                    "payload_mb": round(payload_mb, 1),
                    "repeats": args.repeat,
                    "median_s": round(median, 4),
                    "best_s": round(min(seconds), 4),
                    "images_per_s": round(images / median),
                }
            )

    print(f"mirror: {args.mirror}")
    print(f"{'case':<14} {'images':>7} {'MB':>5} {'median s':>9} {'best s':>8} {'images/s':>11}")
    for r in rows:
        print(
            f"{r['case']:<14} {r['images']:>7} {r['payload_mb']:>5} {r['median_s']:>9.3f} "
            f"{r['best_s']:>8.3f} {r['images_per_s']:>11,}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
