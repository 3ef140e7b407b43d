"""Fetching one dataset file from an ordered list of mirrors, verified before it is used.

A mirror is an ``https://`` or ``http://`` URL prefix, a ``file://`` URL or a plain directory.
Mirrors named in ``MNISTBENCH_MIRROR`` (space-separated) are tried before the configured ones,
which is how compute nodes without internet read from a shared copy.

The file streams through a bounded pipeline as it arrives: the SHA-256 of the compressed bytes
is taken on the way in, gzip is inflated a chunk at a time, and the IDX header, read from the
first bytes, says exactly how large the file must be (a pinned ``size`` must agree). The stream
is stopped as soon as it runs past that size, so a small ``.gz`` that expands to gigabytes
costs one chunk, not a full disk. At the end the SHA-256 of the decompressed IDX file (stable
across mirrors that re-compress) must match; only then is the temporary file renamed into place.
Any failure moves on to the next mirror; when all fail, one error lists every mirror and why.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mnistbench import artifacts, idx, names
from mnistbench.errors import MnistbenchError

MIRROR_ENV = "MNISTBENCH_MIRROR"
CHUNK = 1 << 20
# Before the IDX header has arrived, and beyond the payload a gzip holds: room for gzip's own
# headers, trailers and stored-block overhead (5 bytes per 64 KiB), never more.
GZIP_SLACK = 1 << 16
HEAD_MIN = 16  # bytes of payload looked at before judging its first bytes
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


@dataclass(frozen=True)
class Expected:
    """What the dataset definition pins for one file."""

    sha256: str  # of the decompressed IDX file
    gz_sha256: str | None = None  # of the .gz, where a mirror serves the publisher's own
    size: int | None = None  # bytes of the decompressed IDX file; else the header says


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
    expected = Expected(sha256, gz_sha256, size)
    tried = []
    for mirror in [*mirrors_from_env(), *mirrors]:
        try:
            with artifacts.atomic_path(out.parent, out.name) as tmp:
                _fetch_from(mirror, file_name, expected, tmp, policy)
            log.info("%s: verified from %s", file_name, mirror)
            return mirror
        except MirrorFailed as failure:
            log.warning("%s: mirror %s failed: %s", file_name, mirror, failure)
            tried.append(f"{mirror} ({failure})")
    if not tried:
        raise MnistbenchError(f"{file_name}: no mirrors configured and {MIRROR_ENV} is unset")
    raise MnistbenchError(f"{file_name}: every mirror failed: " + "; ".join(tried))


def _fetch_from(mirror, file_name, expected: Expected, tmp: Path, policy: FetchPolicy) -> None:
    if urllib.parse.urlsplit(mirror).scheme in ("http", "https"):
        _download_with_retries(_join_url(mirror, file_name), file_name, expected, tmp, policy)
        return
    source = _local_source(_local_dir(mirror), file_name)
    try:
        f = source.open("rb")
    except OSError as error:
        raise MirrorFailed(f"cannot read {source} ({error.strerror or error})") from None
    with f, _sink(tmp) as sink:
        stream = _Verifier(sink, expected, tmp, file_name)
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


class _Verifier:
    """Takes a file's bytes as they arrive: hashes, inflates, bounds and writes them.

    ``feed`` raises :class:`MirrorFailed` as soon as the stream proves bad (corrupt gzip, an
    HTML page, a bad IDX header, more bytes than the file can have); ``finish`` checks the end
    (complete gzip, exact size, digests).
    """

    def __init__(self, sink: BinaryIO, expected: Expected, path: Path, name: str):
        self.sink, self.expected, self.path, self.name = sink, expected, path, name
        self.raw_sha, self.raw_count = hashlib.sha256(), 0
        self.sha, self.count = hashlib.sha256(), 0
        self.head = b""  # the first bytes of the payload, until the IDX header is complete
        self.header: idx.Header | None = None
        self.limit = expected.size  # the file's exact size, once known
        self.inflater = None  # a zlib decompressor, for gzip
        self.is_gzip: bool | None = None
        self.pending = b""  # the first byte, until the second tells gzip from plain

    def raw_limit(self) -> int:
        """The most bytes a mirror may send for a file of the size known so far."""
        payload = self.limit if self.limit is not None else idx.HEADER_MAX
        return payload + payload // 1000 + GZIP_SLACK

    def feed(self, chunk: bytes) -> None:
        self.raw_sha.update(chunk)
        self.raw_count += len(chunk)
        if self.is_gzip is None:
            self.pending += chunk
            if len(self.pending) < 2:
                return
            chunk, self.pending = self.pending, b""
            self.is_gzip = chunk[:2] == idx.GZIP_MAGIC
            if self.is_gzip:
                self.inflater = zlib.decompressobj(wbits=31)
        if self.is_gzip:
            self._inflate(chunk)
        else:
            self._payload(chunk)
        if self.raw_count > self.raw_limit():  # e.g. endless padding that inflates to nothing
            raise MirrorFailed(
                f"sent more than {self.raw_limit()} bytes, more than the file can take; stopped"
            )

    def _inflate(self, data: bytes) -> None:
        try:
            while data:
                if self.inflater.eof:  # another gzip member follows, or zero padding
                    if not data.strip(b"\0"):
                        return
                    self.inflater = zlib.decompressobj(wbits=31)
                self._payload(self.inflater.decompress(data, CHUNK))
                data = self.inflater.unconsumed_tail or (
                    self.inflater.unused_data if self.inflater.eof else b""
                )
        except zlib.error as error:
            raise MirrorFailed(f"corrupt gzip data ({error})") from None

    def _payload(self, data: bytes) -> None:
        if not data:
            return
        self.count += len(data)
        if self.header is None:
            self._read_header(data)
        if self.limit is not None and self.count > self.limit:
            if self.header is None:  # only the pinned size is known yet
                raise MirrorFailed(
                    f"{self.name}: more than the {self.limit} bytes the dataset definition "
                    "pins; stopped reading there"
                )
            raise MirrorFailed(
                f"{self.name}: trailing bytes after the payload of dimensions "
                f"{self.header.shape} ({self.limit} bytes in all); stopped reading there"
            )
        self.sha.update(data)
        self.sink.write(data)

    def _read_header(self, data: bytes, final: bool = False) -> None:
        self.head = (self.head + data)[: idx.HEADER_MAX]
        if len(self.head) < HEAD_MIN and not final:
            return  # too little to tell an HTML page from an IDX header yet
        if _looks_like_html(self.head):
            raise MirrorFailed("served an HTML page, not the data file")
        try:
            header = idx.read_header(self.head, self.name)
        except MnistbenchError as error:
            raise MirrorFailed(str(error)) from None
        if header is None:
            return
        size = header.file_size
        if self.expected.size is not None and size != self.expected.size:
            raise MirrorFailed(
                f"{self.name}: its IDX header declares {size} bytes (dimensions "
                f"{header.shape}), the dataset definition pins {self.expected.size}"
            )
        free = shutil.disk_usage(self.path.parent).free
        if size > free:
            raise MirrorFailed(
                f"{self.name}: its IDX header declares {size} bytes (dimensions "
                f"{header.shape}), more than the {free} free in {self.path.parent}"
            )
        self.header, self.limit = header, size

    def _inflate_rest(self) -> None:
        """Output zlib still holds after the last input (at most a few kilobytes)."""
        try:
            self._payload(self.inflater.flush())
        except zlib.error as error:
            raise MirrorFailed(f"corrupt gzip data ({error})") from None

    def finish(self) -> None:
        if self.pending:
            self.is_gzip = False
            self._payload(self.pending)
            self.pending = b""
        if self.is_gzip and not self.inflater.eof:
            self._inflate_rest()
            if not self.inflater.eof:
                raise MirrorFailed("corrupt gzip data (the compressed stream ends early)")
        if self.header is None:
            self._read_header(b"", final=True)  # an HTML page or a bad header says so
        if self.header is None:
            if self.count < 4:
                raise MirrorFailed(f"{self.name}: not an IDX file (only {self.count} bytes)")
            raise MirrorFailed(f"{self.name}: truncated IDX header ({self.count} bytes)")
        if self.count < self.limit:
            shape, need = self.header.shape, self.header.payload_size
            raise MirrorFailed(
                f"{self.name}: truncated payload: {self.count - self.header.header_size} bytes, "
                f"dimensions {shape} need {need}"
            )
        actual = self.sha.hexdigest()
        gz_matches = self.is_gzip and self.raw_sha.hexdigest() == self.expected.gz_sha256
        if actual != self.expected.sha256:
            note = " although the .gz matches its pinned digest" if gz_matches else ""
            raise MirrorFailed(
                f"SHA-256 mismatch: expected {self.expected.sha256}, got {actual}{note}"
            )
        if self.expected.gz_sha256 and self.is_gzip and not gz_matches:
            log.info("%s: the mirror re-compressed the .gz; its payload digest matches", self.name)


def _download_with_retries(
    url: str, file_name: str, expected: Expected, tmp: Path, policy: FetchPolicy
) -> None:
    for attempt in range(policy.retries + 1):
        try:
            with _sink(tmp) as sink:
                stream = _Verifier(sink, expected, tmp, file_name)
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


def _looks_like_html(head: bytes) -> bool:
    return (
        head[:512]
        .lstrip()
        .lower()
        .startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))
    )


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
