"""Fetching one dataset file from an ordered list of mirrors, verified before it is used.

A mirror is an ``https://`` or ``http://`` URL prefix, a ``file://`` URL or a plain directory.
Mirrors named in ``MNISTBENCH_MIRROR`` (space-separated) are tried before the configured ones,
which is how compute nodes without internet read from a shared copy.

The file streams from the mirror through :class:`mnistbench.data.incoming.Verifier` (digests, gzip,
bounds from the IDX header or the pinned size) into a temporary file beside the output, which is
renamed into place only once the SHA-256 of the decompressed IDX file matches (that digest is
stable across mirrors that re-compress). Any failure moves on to the next mirror; when all fail,
one error lists every mirror and why. The temporary file goes on every way out, Ctrl-C and
SIGTERM included; a killed fetch's leftover is removed by the next one.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mnistbench import artifacts
from mnistbench.data import incoming
from mnistbench.errors import MnistbenchError
from mnistbench.plan import names

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
    size: int | None = None,
) -> str:
    """Fetch ``file_name`` into ``out`` (decompressed) from the first mirror that serves it intact.

    :returns: the mirror that served it.
    :raises MnistbenchError: naming every mirror tried and why it failed.
    """
    names.check_file_name(file_name)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MnistbenchError(f"{out.parent}: cannot create ({error.strerror})") from None
    expected = incoming.Expected(sha256, gz_sha256, size)
    tried = []
    for mirror in [*mirrors_from_env(), *mirrors]:
        try:
            with artifacts.atomic_path(out.parent, out.name) as tmp:
                _fetch_from(mirror, file_name, expected, tmp, policy)
            log.info("%s: verified from %s", file_name, mirror)
            return mirror
        except (MirrorFailed, incoming.Refused) as failure:
            log.warning("%s: mirror %s failed: %s", file_name, mirror, failure)
            tried.append(f"{mirror} ({failure})")
    if not tried:
        raise MnistbenchError(f"{file_name}: no mirrors configured and {MIRROR_ENV} is unset")
    raise MnistbenchError(f"{file_name}: every mirror failed: " + "; ".join(tried))


def _fetch_from(
    mirror, file_name, expected: incoming.Expected, tmp: Path, policy: FetchPolicy
) -> None:
    if urllib.parse.urlsplit(mirror).scheme in ("http", "https"):
        _download_with_retries(_join_url(mirror, file_name), file_name, expected, tmp, policy)
        return
    source = _local_source(_local_dir(mirror), file_name)
    try:
        f = source.open("rb")
    except OSError as error:
        raise MirrorFailed(f"cannot read {source} ({error.strerror or error})") from None
    with f, _sink(tmp) as sink:
        stream = incoming.Verifier(sink, expected, tmp, file_name)
        while chunk := _read(f, source):
            stream.feed(chunk)
        stream.finish()


def _read(f: BinaryIO, source: Path) -> bytes:
    try:
        return f.read(CHUNK)
    except OSError as error:
        raise MirrorFailed(f"cannot read {source} ({error.strerror or error})") from None


@contextlib.contextmanager
def _sink(tmp: Path) -> Iterator[BinaryIO]:
    """The temporary file, opened for writing; a failure to write it is the step's, not the
    mirror's (a full disk), so it ends the step rather than moving to the next mirror."""
    try:
        with tmp.open("wb") as sink:
            yield sink
    except OSError as error:
        raise MnistbenchError(f"{tmp}: cannot write ({error.strerror or error})") from None


def _join_url(mirror: str, file_name: str) -> str:
    return mirror.rstrip("/") + "/" + urllib.parse.quote(file_name)


def _local_dir(mirror: str) -> Path:
    if mirror.startswith("file://"):
        return Path(urllib.request.url2pathname(urllib.parse.urlsplit(mirror).path))
    return Path(mirror).expanduser()


def _local_source(directory: Path, file_name: str) -> Path:
    """``file_name`` (or its uncompressed twin) in a local mirror directory."""
    candidates = [directory / file_name]
    if file_name.endswith(".gz"):
        candidates.append(directory / file_name[: -len(".gz")])
    for source in candidates:
        if source.is_file():
            return source
    if not directory.is_dir():
        raise MirrorFailed("no such directory")
    raise MirrorFailed(f"no {file_name} in that directory")


def _download_with_retries(
    url: str, file_name: str, expected: incoming.Expected, tmp: Path, policy: FetchPolicy
) -> None:
    for attempt in range(policy.retries + 1):
        try:
            with _sink(tmp) as sink:
                stream = incoming.Verifier(sink, expected, tmp, file_name)
                most = stream.raw_limit() if expected.size else None
                with contextlib.closing(_download(url, policy.timeout, most)) as chunks:
                    for chunk in chunks:
                        stream.feed(chunk)
                stream.finish()
            return
        except MirrorFailed as failure:
            if not failure.transient or attempt == policy.retries:
                if attempt:
                    raise MirrorFailed(f"{failure} (after {attempt + 1} attempts)") from None
                raise
            delay = policy.backoff * 2**attempt
            log.warning("%s: %s; retrying in %.1f s", url, failure, delay)
            time.sleep(delay)


def _download(url: str, timeout: float, most: int | None) -> Iterator[bytes]:
    """Yield the body of ``url`` as it arrives, classifying each failure as transient or not.

    A body announced as longer than ``most`` bytes (what a file of the pinned size can take)
    is refused before it is read.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            total = int(expected) if expected and expected.isdigit() else None
            if total is not None and most is not None and total > most:
                raise MirrorFailed(f"announces {total} bytes, more than the file can take")
            received = 0
            progress = _Progress(url, total)
            while chunk := response.read1(CHUNK):
                received += len(chunk)
                progress.update(received)
                yield chunk
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
