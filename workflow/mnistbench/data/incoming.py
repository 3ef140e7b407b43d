"""A downloaded file's bytes, checked as they arrive: digests, gzip, size bounds, IDX header.

The fetch step feeds a :class:`Verifier` each chunk it receives; the verifier takes the SHA-256
of the compressed bytes, inflates gzip a chunk at a time, reads the IDX header from the first
bytes to learn the file's exact size (a pinned ``size`` must agree), writes the payload, and
stops the moment the stream runs past that size. So a small ``.gz`` that expands to gigabytes,
or a mirror sending bytes without end, costs one chunk rather than a full disk.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mnistbench.data import idx
from mnistbench.errors import MnistbenchError

CHUNK = 1 << 20  # the most bytes inflated at once
# Before the IDX header has arrived, and beyond the payload a gzip holds: room for gzip's own
# headers, trailers and stored-block overhead (5 bytes per 64 KiB), never more.
GZIP_SLACK = 1 << 16
HEAD_MIN = 16  # bytes of payload looked at before judging its first bytes
log = logging.getLogger(__name__)


class Refused(Exception):
    """The bytes a mirror sent are not the file: the reason, in one line."""


@dataclass(frozen=True)
class Expected:
    """What the dataset definition pins for one file."""

    sha256: str  # of the decompressed IDX file
    gz_sha256: str | None = None  # of the .gz, where a mirror serves the publisher's own
    size: int | None = None  # bytes of the decompressed IDX file; else the header says


class Verifier:
    """Takes a file's bytes as they arrive: hashes, inflates, bounds and writes them.

    ``feed`` raises :class:`Refused` as soon as the stream proves bad (corrupt gzip, an
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
            raise Refused(
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
            raise Refused(f"corrupt gzip data ({error})") from None

    def _payload(self, data: bytes) -> None:
        if not data:
            return
        self.count += len(data)
        if self.header is None:
            self._read_header(data)
        if self.limit is not None and self.count > self.limit:
            if self.header is None:  # only the pinned size is known yet
                raise Refused(
                    f"{self.name}: more than the {self.limit} bytes the dataset definition "
                    "pins; stopped reading there"
                )
            raise Refused(
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
            raise Refused("served an HTML page, not the data file")
        try:
            header = idx.read_header(self.head, self.name)
        except MnistbenchError as error:
            raise Refused(str(error)) from None
        if header is None:
            return
        size = header.file_size
        if self.expected.size is not None and size != self.expected.size:
            raise Refused(
                f"{self.name}: its IDX header declares {size} bytes (dimensions "
                f"{header.shape}), the dataset definition pins {self.expected.size}"
            )
        free = shutil.disk_usage(self.path.parent).free
        if size > free:
            raise Refused(
                f"{self.name}: its IDX header declares {size} bytes (dimensions "
                f"{header.shape}), more than the {free} free in {self.path.parent}"
            )
        self.header, self.limit = header, size

    def _inflate_rest(self) -> None:
        """Output zlib still holds after the last input (at most a few kilobytes)."""
        try:
            self._payload(self.inflater.flush())
        except zlib.error as error:
            raise Refused(f"corrupt gzip data ({error})") from None

    def finish(self) -> None:
        if self.pending:
            self.is_gzip = False
            self._payload(self.pending)
            self.pending = b""
        if self.is_gzip and not self.inflater.eof:
            self._inflate_rest()
            if not self.inflater.eof:
                raise Refused("corrupt gzip data (the compressed stream ends early)")
        if self.header is None:
            self._read_header(b"", final=True)  # an HTML page or a bad header says so
        if self.header is None:
            if self.count < 4:
                raise Refused(f"{self.name}: not an IDX file (only {self.count} bytes)")
            raise Refused(f"{self.name}: truncated IDX header ({self.count} bytes)")
        if self.count < self.limit:
            shape, need = self.header.shape, self.header.payload_size
            raise Refused(
                f"{self.name}: truncated payload: {self.count - self.header.header_size} bytes, "
                f"dimensions {shape} need {need}"
            )
        actual = self.sha.hexdigest()
        gz_matches = self.is_gzip and self.raw_sha.hexdigest() == self.expected.gz_sha256
        if actual != self.expected.sha256:
            note = " although the .gz matches its pinned digest" if gz_matches else ""
            raise Refused(f"SHA-256 mismatch: expected {self.expected.sha256}, got {actual}{note}")
        if self.expected.gz_sha256 and self.is_gzip and not gz_matches:
            log.info("%s: the mirror re-compressed the .gz; its payload digest matches", self.name)


def _looks_like_html(head: bytes) -> bool:
    return (
        head[:512]
        .lstrip()
        .lower()
        .startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))
    )
