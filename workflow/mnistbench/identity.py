"""Fingerprints of the code that makes each output, so Snakemake re-runs what a change touches.

Rules call ``python -m mnistbench``, so Snakemake's own ``code`` trigger sees only the shell line.
The workflow passes these fingerprints as rule ``params`` instead: editing the core's training
code re-runs every run, editing one backend plugin (or upgrading its distribution) re-runs that
backend's runs, editing the report code re-runs only the report. Each fingerprint is a SHA-256
over the relative paths and bytes of the source files, so it does not depend on where the code
is installed or on file times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

# What each step's outputs depend on, relative to the mnistbench package. Plugin loading,
# provenance and the command-line wrapper are left out: changing them changes no number.
TRAIN_CODE = (
    "train.py",
    "epochs.py",
    "checkpoint.py",
    "backend.py",
    "datasets.py",
    "idx.py",
    "artifacts.py",
    "npz.py",
    "variants",
)
EVALUATE_CODE = (
    "evaluate.py",
    "backend.py",
    "datasets.py",
    "idx.py",
    "artifacts.py",
    "npz.py",
    "variants",
)
AGGREGATE_CODE = ("aggregate.py",)
REPORT_CODE = ("report*.py", "templates")
SOURCE_SUFFIXES = (".py", ".j2", ".html", ".css", ".js")


def source_files(root: Path, patterns: Iterable[str]) -> list[Path]:
    """The source files under ``root`` matched by ``patterns`` (files, folders or globs)."""
    found = set()
    for pattern in patterns:
        for match in root.glob(pattern):
            candidates = match.rglob("*") if match.is_dir() else [match]
            found.update(p for p in candidates if p.is_file() and p.suffix in SOURCE_SUFFIXES)
    return sorted(found)


def digest(root: Path, patterns: Iterable[str] = ("*",)) -> str:
    """SHA-256 over the relative path and content of each source file, in sorted order."""
    sha = hashlib.sha256()
    for path in source_files(root, patterns):
        sha.update(path.relative_to(root).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def core(patterns: Iterable[str]) -> str:
    """Fingerprint of the core package's files named by ``patterns`` (e.g. :data:`TRAIN_CODE`)."""
    return "mnistbench sha256:" + digest(PACKAGE, patterns)[:16]


def plugin(module: object, distribution: str | None) -> str:
    """Fingerprint of a backend plugin: its distribution and version, and its module's source.

    A package plugin is fingerprinted over its whole folder, a single-module plugin over its file.
    """
    file = Path(getattr(module, "__file__", "") or "")
    if file.name == "__init__.py":
        source = digest(file.parent)
    elif file.is_file():
        source = digest(file.parent, [file.name])
    else:
        source = "unknown"
    return f"{distribution or 'not a distribution'} sha256:{source[:16]}"
