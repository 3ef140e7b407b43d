"""Fetching one dataset file from an ordered list of mirrors, verified before it is used.

A mirror is an ``https://`` or ``http://`` URL prefix, a ``file://`` URL or a plain directory.
Mirrors named in ``MNISTBENCH_MIRROR`` (space-separated) are tried before the configured ones,
which is how compute nodes without internet read from a shared copy.

The download streams into a temporary file beside the output; the file is decompressed, its
SHA-256 (of the decompressed IDX payload, which is stable across mirrors that re-compress) and
its IDX structure are checked, and only then is it renamed into place. Any failure moves on to
the next mirror; when all fail, one error lists every mirror and why it failed.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mnistbench import idx
from mnistbench.errors import MnistbenchError

MIRROR_ENV = "MNISTBENCH_MIRROR"
CHUNK = 1 << 20
log = logging.getLogger(__name__)


class MirrorFailed(Exception):
    """This mirror cannot provide the file; ``transient`` says whether retrying may help."""

    def __init__(self, reason: str, transient: bool = False):
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True)
class FetchPolicy:
    """How patient to be with one network mirror."""

    timeout: float = 30.0  # seconds without a byte before giving up on a connection
    retries: int = 3  # further attempts after a transient failure (timeouts, 5xx, cut transfers)
    backoff: float = 1.0  # seconds before the first retry; doubles each time


def mirrors_from_env(environ=os.environ) -> list[str]:
    """The mirrors named in ``MNISTBENCH_MIRROR``, in order."""
    return environ.get(MIRROR_ENV, "").split()


def fetch(
    file_name: str,
    sha256: str,
    out: str | Path,
    mirrors: Sequence[str],
    gz_sha256: str | None = None,
    policy: FetchPolicy = FetchPolicy(),
) -> str:
    """Fetch ``file_name`` into ``out`` (decompressed) from the first mirror that serves it intact.

    :returns: the mirror that served it.
    :raises MnistbenchError: naming every mirror tried and why it failed.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tried = []
    for mirror in [*mirrors_from_env(), *mirrors]:
        try:
            _fetch_from(mirror, file_name, sha256, gz_sha256, out, policy)
            log.info("%s: verified from %s", file_name, mirror)
            return mirror
        except MirrorFailed as failure:
            log.warning("%s: mirror %s failed: %s", file_name, mirror, failure)
            tried.append(f"{mirror} ({failure})")
    if not tried:
        raise MnistbenchError(f"{file_name}: no mirrors configured and {MIRROR_ENV} is unset")
    raise MnistbenchError(f"{file_name}: every mirror failed: " + "; ".join(tried))


def _fetch_from(mirror, file_name, sha256, gz_sha256, out: Path, policy: FetchPolicy) -> None:
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        download = Path(tmp) / file_name
        if urllib.parse.urlsplit(mirror).scheme in ("http", "https"):
            _download_with_retries(_join_url(mirror, file_name), download, policy)
        else:
            _copy_local(_local_dir(mirror), file_name, download)
        payload = Path(tmp) / "payload"
        actual = _decompress_and_hash(download, payload)
        if actual != sha256:
            gz_note = ""
            if gz_sha256 and _sha256_of(download) == gz_sha256:
                gz_note = " although the .gz matches its pinned digest"
            raise MirrorFailed(f"SHA-256 mismatch: expected {sha256}, got {actual}{gz_note}")
        try:
            idx.parse(payload.read_bytes(), file_name)
        except MnistbenchError as error:
            raise MirrorFailed(str(error)) from None
        os.replace(payload, out)


def _join_url(mirror: str, file_name: str) -> str:
    return mirror.rstrip("/") + "/" + urllib.parse.quote(file_name)


def _local_dir(mirror: str) -> Path:
    if mirror.startswith("file://"):
        return Path(urllib.request.url2pathname(urllib.parse.urlsplit(mirror).path))
    return Path(mirror).expanduser()


def _copy_local(directory: Path, file_name: str, dest: Path) -> None:
    """Copy ``file_name`` (or its uncompressed twin) from a local mirror directory."""
    candidates = [directory / file_name]
    if file_name.endswith(".gz"):
        candidates.append(directory / file_name[: -len(".gz")])
    for source in candidates:
        if source.is_file():
            shutil.copyfile(source, dest)
            return
    if not directory.is_dir():
        raise MirrorFailed("no such directory")
    raise MirrorFailed(f"no {file_name} in that directory")


def _download_with_retries(url: str, dest: Path, policy: FetchPolicy) -> None:
    for attempt in range(policy.retries + 1):
        try:
            return _download(url, dest, policy.timeout)
        except MirrorFailed as failure:
            if not failure.transient or attempt == policy.retries:
                if attempt:
                    raise MirrorFailed(f"{failure} (after {attempt + 1} attempts)") from None
                raise
            delay = policy.backoff * 2**attempt
            log.warning("%s: %s; retrying in %.1f s", url, failure, delay)
            time.sleep(delay)


def _download(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` into ``dest``, classifying each failure as transient or not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, dest.open("wb") as sink:
            expected = response.headers.get("Content-Length")
            total = int(expected) if expected and expected.isdigit() else None
            received = 0
            progress = _Progress(url, total)
            while chunk := response.read(CHUNK):
                sink.write(chunk)
                received += len(chunk)
                progress.update(received)
            progress.done(received)
    except urllib.error.HTTPError as error:
        transient = error.code >= 500 or error.code in (408, 429)
        raise MirrorFailed(f"HTTP {error.code} {error.reason}", transient) from None
    except TimeoutError:
        raise MirrorFailed(f"timed out after {timeout:g} s without data", True) from None
    except http.client.IncompleteRead as error:
        raise MirrorFailed(f"transfer cut short after {len(error.partial)} bytes", True) from None
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise MirrorFailed(f"connection failed: {reason}", True) from None
    if total is not None and received != total:
        raise MirrorFailed(f"transfer cut short: {received} of {total} bytes", True)


def _decompress_and_hash(source: Path, dest: Path) -> str:
    """Write the IDX payload of ``source`` (gzip or plain) to ``dest``; return its SHA-256."""
    digest = hashlib.sha256()
    with source.open("rb") as probe:
        is_gzip = probe.read(2) == idx.GZIP_MAGIC
    opener = gzip.open if is_gzip else open
    try:
        with opener(source, "rb") as stream, dest.open("wb") as sink:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                sink.write(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise MirrorFailed(f"corrupt gzip data ({error})") from None
    if _looks_like_html(dest):  # plain, or gzip-encoded as servers send error pages too
        raise MirrorFailed("served an HTML page, not the data file")
    return digest.hexdigest()


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(512).lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))


def _sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class _Progress:
    """A progress line on stderr for downloads over a few megabytes, at most once a second."""

    def __init__(self, url: str, total: int | None, min_size: int = 4 << 20):
        self.url, self.total = url, total
        self.enabled = total is None or total >= min_size
        self.last = time.monotonic()

    def update(self, received: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.last >= 1.0:
            self.last = now
            of = f" of {self.total / 1e6:.1f} MB" if self.total else " MB"
            print(f"{self.url}: {received / 1e6:.1f}{of}", file=sys.stderr, flush=True)

    def done(self, received: int) -> None:
        if self.enabled:
            print(f"{self.url}: {received / 1e6:.1f} MB done", file=sys.stderr, flush=True)
