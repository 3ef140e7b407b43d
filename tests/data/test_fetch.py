"""The fetch step against a real HTTP server on 127.0.0.1 and real local mirrors.

Each test runs the real command (``python -m mnistbench fetch``) in a subprocess with
``MNISTBENCH_MIRROR`` removed, so only the mirrors a test names count. The server routes the
first path segment to a behaviour: a good file, an HTML page with status 200 (plain or
gzip-encoded), a transfer cut short, corrupt gzip, a valid file with the wrong digest, 404, 503,
a server silent for longer than the client's timeout (before the headers or mid-transfer),
a path that fails once with 503 before it serves the good file, and hostile ones: a gzip
stream that never ends (a valid IDX header, then zeros forever), endless padding after a good
file, a header declaring another size, a Content-Length far beyond the file, and the good file
re-compressed (another .gz digest, the same payload).
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import http.server
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from pathlib import Path

import pytest

from tests import cli
from tests.conftest import SAMPLE_DIR, SAMPLE_FILES

NAME = SAMPLE_FILES["test_labels"]["name"]  # the smallest real file: 1,000 labels
SHA256 = SAMPLE_FILES["test_labels"]["sha256"]
ERROR_PREFIX = "mnistbench fetch: error: "
TIMEOUT = 0.5  # the client's --timeout; the slow behaviours stall for SLOW seconds
SLOW = 5.0
SIZE = len(gzip.decompress((SAMPLE_DIR / NAME).read_bytes()))  # 1,008 bytes: 1,000 labels
ENDLESS = 2 << 30  # the hostile streams stop here if the client never does
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Sign in</body></html>\n"
)


def wrong_payload_gz(good_gz: bytes) -> bytes:
    """A valid gzip of a valid IDX label file whose payload differs from the real one."""
    payload = bytearray(gzip.decompress(good_gz))
    payload[8] = (payload[8] + 1) % 10  # the first label, still in range
    return gzip.compress(bytes(payload), mtime=0)


def corrupt_gz(good_gz: bytes) -> bytes:
    """The real .gz with its header intact and its deflate stream overwritten in the middle."""
    data = bytearray(good_gz)
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    return bytes(data)


class MirrorServer(http.server.ThreadingHTTPServer):
    """Serves ``/<behaviour>/.../<file>``; counts requests per path in ``requests``."""

    daemon_threads = True

    def __init__(self, good_gz: bytes):
        super().__init__(("127.0.0.1", 0), MirrorHandler)
        self.good = good_gz
        self.wrong = wrong_payload_gz(good_gz)
        self.corrupt = corrupt_gz(good_gz)
        self.requests: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # ends the slow behaviours' stalls at teardown

    def url(self, behaviour: str) -> str:
        """A mirror URL of ``behaviour``, unique per call so request counts are per test."""
        return f"http://127.0.0.1:{self.server_address[1]}/{behaviour}/{uuid.uuid4().hex}/"

    def count(self, mirror: str) -> int:
        with self.lock:
            return self.requests[urllib.parse.urlsplit(mirror).path + NAME]


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    server: MirrorServer

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.requests[self.path] += 1
            seen = self.server.requests[self.path]
        behaviour = self.path.split("/")[1]
        try:
            getattr(self, "serve_" + behaviour, self.serve_missing)(seen)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeouts): expected

    def send_body(self, body: bytes, content_type="application/gzip", length=None):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def serve_good(self, seen):
        self.send_body(self.server.good)

    def serve_html(self, seen):
        self.send_body(HTML_PAGE, "text/html; charset=utf-8")

    def serve_html_gzip(self, seen):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        body = gzip.compress(HTML_PAGE, mtime=0)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def serve_cut(self, seen):
        self.send_body(self.server.good[: len(self.server.good) // 2], length=len(self.server.good))

    def serve_corrupt(self, seen):
        self.send_body(self.server.corrupt)

    def serve_wrong(self, seen):
        self.send_body(self.server.wrong)

    def serve_missing(self, seen):
        self.send_error(404)

    def serve_unavailable(self, seen):
        self.send_error(503)

    def serve_flaky(self, seen):
        if seen == 1:
            self.send_error(503)
        else:
            self.serve_good(seen)

    def serve_recompressed(self, seen):
        self.send_body(gzip.compress(gzip.decompress(self.server.good), 1, mtime=1))

    def stream_forever(self, first: bytes, then: bytes):
        """``first``, then ``then`` over and over: until the client hangs up (or ENDLESS)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.end_headers()
        self.wfile.write(first)
        sent = 0
        while sent < ENDLESS and not self.server.stopping.is_set():
            self.wfile.write(then)
            sent += len(then)

    def serve_bomb(self, seen):
        """A gzip whose IDX header declares 1,000 labels, followed by endless zeros."""
        deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
        first = deflate.compress(struct.pack(">4I", 0x801, 1000, 0, 0)[:8])
        zeros = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_SYNC_FLUSH)
        self.stream_forever(
            first + zeros, deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_SYNC_FLUSH)
        )

    def serve_padding(self, seen):
        """The good file, then zero bytes forever (gzip tolerates padding; not this much)."""
        self.stream_forever(self.server.good, bytes(1 << 16))

    def serve_big_header(self, seen):
        """A valid gzip of an IDX header declaring 2**31 labels, nothing else."""
        self.send_body(gzip.compress(struct.pack(">4I", 0x801, 1 << 31, 0, 0)[:8], mtime=0))

    def serve_huge_length(self, seen):
        """Announces a gigabyte, then stalls."""
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.server.stopping.wait(SLOW)

    def serve_slow(self, seen):
        """No response at all until long after the client's timeout."""
        self.server.stopping.wait(SLOW)

    def serve_stall(self, seen):
        """Headers and the first bytes, then silence longer than the client's timeout."""
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.server.good)))
        self.end_headers()
        self.wfile.write(self.server.good[: len(self.server.good) // 2])
        self.server.stopping.wait(SLOW)


@pytest.fixture(scope="module")
def server(mirror):
    httpd = MirrorServer((mirror / NAME).read_bytes())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.stopping.set()
    httpd.shutdown()
    httpd.server_close()


def fetch(out: Path, *mirrors: str, retries=0, env_mirror=None, **options):
    """Run the fetch command as Snakemake would; only ``mirrors`` and ``env_mirror`` count."""
    env = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    if env_mirror is not None:
        env["MNISTBENCH_MIRROR"] = env_mirror
    args = fetch_args(out, *mirrors, retries=retries, **options)
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


def fetch_args(
    out: Path, *mirrors: str, retries=0, sha256=SHA256, extra=(), name=NAME, timeout=TIMEOUT
) -> list[str]:
    """The fetch command's arguments."""
    args = [
        sys.executable,
        "-m",
        "mnistbench",
        "fetch",
        "--file",
        name,
        "--sha256",
        sha256,
        *extra,
        "--out",
        str(out),
        "--timeout",
        str(timeout),
        "--retries",
        str(retries),
        "--backoff",
        "0.01",
    ]
    for mirror in mirrors:
        args += ["--mirror", mirror]
    return args


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "resources" / "mnist" / "test_labels.idx"


def error_line(result: subprocess.CompletedProcess) -> str:
    return cli.error_line(result, "fetch")


def assert_nothing_left(out: Path) -> None:
    assert not out.exists()
    assert sorted(p.name for p in out.parent.iterdir()) == []  # no temporary files either


def assert_verified(result: subprocess.CompletedProcess, out: Path) -> None:
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == SHA256
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


# One broken mirror each: the behaviour, and what the error line must say about it.
FAILURES = {
    "missing": ["HTTP 404"],
    "unavailable": ["HTTP 503"],
    "html": ["served an HTML page"],
    "html_gzip": ["served an HTML page"],  # gzip Content-Encoding, which urllib leaves as is
    "cut": ["transfer cut short", "263 of 526 bytes"],
    "corrupt": ["corrupt gzip data"],
    "wrong": ["SHA-256 mismatch", f"expected {SHA256}, got "],
    "slow": [f"timed out after {TIMEOUT:g} s"],
    "stall": [f"timed out after {TIMEOUT:g} s"],
}


@pytest.fixture(scope="module")
def broken(server, tmp_path_factory):
    """Fetch from one broken mirror, once per behaviour: (mirror, result, out, seconds)."""
    runs = {}

    def run(behaviour: str):
        if behaviour not in runs:
            mirror = server.url(behaviour)
            out = tmp_path_factory.mktemp(behaviour) / "resources" / "mnist" / "test_labels.idx"
            start = time.monotonic()
            result = fetch(out, mirror)
            runs[behaviour] = (mirror, result, out, time.monotonic() - start)
        return runs[behaviour]

    return run


def test_good_file_over_http_is_verified_and_renamed_into_place(server, out):
    assert_verified(fetch(out, server.url("good")), out)


@pytest.mark.parametrize("behaviour", FAILURES)
def test_broken_mirror_exits_1_with_one_line_naming_file_mirror_and_problem(broken, behaviour):
    mirror, result, _, _ = broken(behaviour)
    assert result.returncode == 1
    line = error_line(result)
    assert line.startswith(f"{ERROR_PREFIX}{NAME}: every mirror failed: {mirror} (")
    for phrase in FAILURES[behaviour]:
        assert phrase in line


@pytest.mark.parametrize("behaviour", FAILURES)
def test_broken_mirror_leaves_nothing_at_the_output_path(broken, behaviour):
    assert_nothing_left(broken(behaviour)[2])


def test_wrong_digest_names_expected_and_actual_digests(server, broken):
    line = error_line(broken("wrong")[1])
    actual = hashlib.sha256(gzip.decompress(server.wrong)).hexdigest()
    assert f"expected {SHA256}, got {actual}" in line


@pytest.mark.parametrize("behaviour", ["slow", "stall"])
def test_silent_server_is_given_up_on_after_the_timeout_not_the_stall(broken, behaviour):
    assert broken(behaviour)[3] < SLOW - 1


def test_bad_first_mirror_then_good_second_succeeds_from_the_second(server, out):
    bad, good = server.url("missing"), server.url("good")
    result = fetch(out, bad, good)
    assert_verified(result, out)
    assert f"mirror {bad} failed: HTTP 404" in result.stderr
    assert f"{NAME}: verified from {good}" in result.stderr


def test_transient_503_is_retried_and_then_succeeds(server, out):
    mirror = server.url("flaky")
    assert_verified(fetch(out, mirror, retries=1), out)
    assert server.count(mirror) == 2


def test_exhausted_retries_say_how_many_attempts_were_made(server, out):
    mirror = server.url("unavailable")
    line = error_line(fetch(out, mirror, retries=2))
    assert "HTTP 503" in line and "(after 3 attempts)" in line
    assert server.count(mirror) == 3


def test_cut_short_transfer_is_retried(server, out):
    mirror = server.url("cut")
    fetch(out, mirror, retries=1)
    assert server.count(mirror) == 2


def test_404_is_not_retried(server, out):
    mirror = server.url("missing")
    assert fetch(out, mirror, retries=2).returncode == 1
    assert server.count(mirror) == 1


def test_corrupt_gzip_is_not_retried(server, out):
    mirror = server.url("corrupt")
    assert fetch(out, mirror, retries=2).returncode == 1
    assert server.count(mirror) == 1


def test_error_lists_every_mirror_tried_and_why(server, out, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    mirrors = {
        server.url("missing"): "HTTP 404",
        str(tmp_path / "no-such-dir"): "no such directory",
        empty.as_uri(): f"no {NAME} in that directory",
        server.url("corrupt"): "corrupt gzip data",
        server.url("wrong"): "SHA-256 mismatch",
    }
    line = error_line(fetch(out, *mirrors))
    tried = line.split(": every mirror failed: ", 1)[1].split("; ")
    assert len(tried) == len(mirrors)
    for entry, (mirror, reason) in zip(tried, mirrors.items()):
        assert entry.startswith(f"{mirror} (") and reason in entry


def test_no_mirrors_at_all_is_one_line(out):
    line = error_line(fetch(out))
    assert line == f"{ERROR_PREFIX}{NAME}: no mirrors configured and MNISTBENCH_MIRROR is unset"


def test_plain_directory_mirror(mirror, out):
    assert_verified(fetch(out, str(mirror)), out)


def test_file_url_mirror(mirror, out):
    assert_verified(fetch(out, mirror.as_uri()), out)


def test_directory_holding_the_uncompressed_file_serves_it(mirror, out, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / NAME.removesuffix(".gz")).write_bytes(gzip.decompress((mirror / NAME).read_bytes()))
    assert_verified(fetch(out, str(plain)), out)


def test_environment_mirror_is_tried_before_configured_mirrors(server, mirror, out):
    configured = server.url("missing")
    result = fetch(out, configured, env_mirror=str(mirror))
    assert_verified(result, out)
    assert f"{NAME}: verified from {mirror}" in result.stderr
    assert server.count(configured) == 0


def test_environment_mirrors_are_tried_in_order(server, mirror, out, tmp_path):
    bad = str(tmp_path / "no-such-dir")
    result = fetch(out, env_mirror=f"{bad} {mirror}")
    assert_verified(result, out)
    assert f"mirror {bad} failed: no such directory" in result.stderr
    assert f"{NAME}: verified from {mirror}" in result.stderr


def test_failed_fetch_keeps_an_existing_verified_file(server, mirror, out):
    assert_verified(fetch(out, str(mirror)), out)
    assert fetch(out, server.url("wrong")).returncode == 1
    assert hashlib.sha256(out.read_bytes()).hexdigest() == SHA256


# Hostile mirrors and names: bounded, and refused in one line ---------------------------------


def test_an_endless_gzip_stream_is_stopped_at_the_size_its_idx_header_declares(server, out):
    line = error_line(fetch(out, server.url("bomb")))
    assert line.endswith(
        f"({NAME}: trailing bytes after the payload of dimensions (1000,) (1008 bytes in all); "
        "stopped reading there)"
    )
    assert_nothing_left(out)


def test_endless_padding_after_a_good_file_is_stopped(server, out):
    line = error_line(fetch(out, server.url("padding")))
    assert "bytes, more than the file can take; stopped" in line
    assert_nothing_left(out)


def test_a_header_declaring_another_size_than_the_pinned_one_is_refused(server, out):
    line = error_line(fetch(out, server.url("big_header"), extra=["--size", str(SIZE)]))
    assert line.endswith(
        f"({NAME}: its IDX header declares {8 + 2**31} bytes (dimensions ({2**31},)), "
        f"the dataset definition pins {SIZE})"
    )
    assert_nothing_left(out)


def test_a_wrong_pinned_size_is_refused_naming_both_sizes(server, out):
    line = error_line(fetch(out, server.url("good"), extra=["--size", str(SIZE - 8)]))
    assert f"its IDX header declares {SIZE} bytes (dimensions (1000,)), the dataset " in line
    assert_nothing_left(out)


def test_a_content_length_beyond_the_pinned_size_is_refused_before_reading(broken, server, out):
    start = time.monotonic()
    line = error_line(fetch(out, server.url("huge_length"), extra=["--size", str(SIZE)]))
    assert f"announces {1 << 30} bytes, more than the file can take" in line
    assert time.monotonic() - start < SLOW - 1  # not after waiting for the stalled body
    assert_nothing_left(out)


def test_the_right_pinned_size_fetches_the_file(server, out):
    assert_verified(fetch(out, server.url("good"), extra=["--size", str(SIZE)]), out)


def gz_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_recompressed_gz_is_accepted_on_its_payload_digest(server, out):
    pinned = gz_digest(server.good)
    result = fetch(out, server.url("recompressed"), extra=["--gz-sha256", pinned])
    assert_verified(result, out)
    assert "the mirror re-compressed the .gz; its payload digest matches" in result.stderr


def test_a_gz_matching_its_pinned_digest_with_a_wrong_payload_says_so(server, out):
    pinned = gz_digest(server.wrong)
    line = error_line(fetch(out, server.url("wrong"), extra=["--gz-sha256", pinned]))
    assert "SHA-256 mismatch" in line and "although the .gz matches its pinned digest" in line


@pytest.mark.parametrize("name", ["../t10k-labels-idx1-ubyte.gz", "/tmp/{tmp}/served.gz", ".."])
def test_a_file_name_that_is_not_one_path_component_is_refused_before_any_request(
    server, tmp_path, name
):
    name = name.format(tmp=tmp_path.name)
    mirror = server.url("good")
    out = tmp_path / "resources" / "mnist" / "test_labels.idx"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = fetch(out, mirror, name=name)
    assert result.returncode == 1
    assert error_line(result) == (
        f"{ERROR_PREFIX}{name!r} is not a file name: a dataset file's name is one path component "
        "(no '/' or '\\', not '.' or '..')"
    )
    assert server.count(mirror) == 0
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert not Path(name).is_absolute() or not Path(name).exists()


def start_fetch(out: Path, mirror: str) -> subprocess.Popen:
    """The fetch command in the background, patient with a stalled server."""
    env = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    args = fetch_args(out, mirror, timeout=60)
    return subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_temporary_file(out: Path, process: subprocess.Popen) -> Path:
    for _ in range(200):
        found = [p for p in out.parent.glob(f".{out.name}.*") if p.is_file()]
        if found:
            return found[0]
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    raise AssertionError("the fetch never started writing")


def test_sigterm_mid_download_exits_with_one_line_and_leaves_no_temporary_file(server, out):
    process = start_fetch(out, server.url("stall"))
    wait_for_temporary_file(out, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1] == f"{ERROR_PREFIX}stopped by SIGTERM"
    assert_nothing_left(out)


def test_a_killed_fetchs_leftover_is_removed_by_the_next_fetch(server, out):
    process = start_fetch(out, server.url("stall"))
    leftover = wait_for_temporary_file(out, process)
    process.kill()
    process.communicate(timeout=30)
    assert leftover.exists()  # SIGKILL leaves it: nothing runs in a killed process
    assert_verified(fetch(out, server.url("good")), out)
    assert not leftover.exists()
