"""The one write helper: inside its output folder, whole or not at all, valid JSON, no leftovers."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError
from mnistbench.plan import names
from mnistbench.plan.config import SCHEMA_PATH
from tests.cli import tree


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.json", "a/../../outside.json", ""])
def test_a_destination_outside_the_output_folder_is_refused(tmp_path, name):
    folder = tmp_path / "run"
    folder.mkdir()
    before = tree(tmp_path)
    with pytest.raises(MnistbenchError, match="refusing to write outside the output folder"):
        artifacts.write_atomically(folder, name, lambda p: p.write_text("x"))
    assert tree(tmp_path) == before


def test_a_symbolic_link_leading_out_of_the_folder_is_refused(tmp_path):
    folder, outside = tmp_path / "run", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "sub").symlink_to(outside)
    with pytest.raises(MnistbenchError, match="refusing to write outside the output folder"):
        artifacts.write_json(folder, "sub/metrics.json", {"a": 1})
    assert list(outside.iterdir()) == []


def test_a_file_inside_a_subfolder_is_written(tmp_path):
    path = artifacts.write_json(tmp_path, "sub/metrics.json", {"a": 1})
    assert path == tmp_path / "sub" / "metrics.json" and json.loads(path.read_text()) == {"a": 1}


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary_one(tmp_path):
    def fail(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        artifacts.write_atomically(tmp_path, "metrics.json", fail)
    assert tree(tmp_path) == {}


def test_write_all_replaces_no_file_when_one_of_them_fails(tmp_path):
    (tmp_path / "a.txt").write_text("old a")

    def fail(path: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        artifacts.write_all(tmp_path, {"a.txt": lambda p: p.write_text("new a"), "b.txt": fail})
    assert tree(tmp_path) == {"a.txt": b"old a"}


def test_json_holds_null_where_a_number_is_not_finite(tmp_path):
    data = {"loss": float("nan"), "more": [np.float32("inf"), -math.inf, 1.5], "n": np.int64(3)}
    path = artifacts.write_json(tmp_path, "train.json", data)

    def refuse(token: str):
        raise AssertionError(f"{token} is not JSON")

    parsed = json.loads(path.read_text(), parse_constant=refuse)
    assert parsed == {"loss": None, "more": [None, None, 1.5], "n": 3}


def dead_pid() -> int:
    """The process id of a process that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    return int(child.stdout)


def test_a_killed_writers_leftover_is_removed_by_the_next_write(tmp_path):
    leftover = tmp_path / f".weights.npz.{dead_pid()}.0123abcd.tmp.npz"
    leftover.write_bytes(b"half an archive")
    artifacts.write_json(tmp_path, "train.json", {})
    assert sorted(tree(tmp_path)) == ["train.json"]


def test_a_live_writers_temporary_file_is_left_alone(tmp_path):
    live = tmp_path / f".weights.npz.{os.getppid()}.0123abcd.tmp.npz"
    live.write_bytes(b"being written")
    artifacts.write_json(tmp_path, "train.json", {})
    assert live.exists()


def test_probing_a_live_writer_sends_it_no_signal(tmp_path):
    """Whether a writer lives is asked with signal 0, which delivers nothing."""
    writer = subprocess.Popen(  # a writer that a real signal would end (SIGHUP set to default)
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(1, signal.SIG_DFL); "
            "print(flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        writer.stdout.readline()  # its handler is in place
        live = tmp_path / f".train.json.{writer.pid}.0123abcd.tmp.json"
        live.write_bytes(b"being written")
        assert artifacts.remove_leftovers(tmp_path) == []
        time.sleep(0.05)
        assert writer.poll() is None and live.exists()
    finally:
        writer.kill()
        writer.wait()


def test_output_folder_removes_the_folders_it_created_when_the_step_fails(tmp_path):
    with pytest.raises(MnistbenchError), artifacts.output_folder(tmp_path / "a" / "b" / "run"):
        raise MnistbenchError("data changed")
    assert tree(tmp_path) == {}


def test_output_folder_refuses_a_file_in_the_way_in_one_line(tmp_path):
    (tmp_path / "results").write_text("not a folder")
    with pytest.raises(MnistbenchError) as error, artifacts.output_folder(tmp_path / "results"):
        pass
    assert str(error.value).startswith(f"{tmp_path / 'results'}: cannot write to this output")
    assert "\n" not in str(error.value)


NAMES = ["mnist", "fashion-mnist", "v1.2_b", "../x", "a/b", "..", ".", "", "-x", "_x", "a b"]
FILE_NAMES = [
    "train-images-idx3-ubyte.gz",
    ".hidden",
    "a..b",
    "../x",
    "/abs.gz",
    "a\\b",
    "..",
    ".",
    "",
    "x\0y",
]


def schema_pattern(*path: str) -> str:
    node = yaml.safe_load(SCHEMA_PATH.read_text())
    for key in path:
        node = node[key]
    return node["pattern"]


@pytest.mark.parametrize("name", NAMES)
def test_the_schemas_name_pattern_is_the_registrys(name):
    import re

    pattern = schema_pattern("$defs", "names", "items")
    assert (re.search(pattern, name) is not None) == names.is_name(name)


@pytest.mark.parametrize("name", FILE_NAMES)
def test_the_schemas_file_name_pattern_agrees_with_fetch(name):
    import re

    files = ("properties", "dataset_definitions", "additionalProperties", "properties", "files")
    pattern = schema_pattern(
        *files, "patternProperties", "^(train|test)_(images|labels)$", "properties", "name"
    )
    assert (re.search(pattern, name) is not None) == names.is_file_name(name)


# --- exact edges: what is refused, what is removed, what is written ----------------------------


@pytest.mark.parametrize("name", ["", ".", "sub/../train.json"])
def test_a_name_that_is_no_file_in_the_folder_or_climbs_out_and_back_is_refused(tmp_path, name):
    (tmp_path / "sub").mkdir()
    with pytest.raises(MnistbenchError, match="refusing to write outside the output folder"):
        artifacts.destination(tmp_path, name)


def test_an_absolute_name_is_refused_even_when_it_points_inside_the_folder(tmp_path):
    with pytest.raises(MnistbenchError) as error:
        artifacts.destination(tmp_path, str(tmp_path / "train.json"))
    assert str(error.value) == (
        f"{tmp_path / 'train.json'}: refusing to write outside the output folder {tmp_path}"
    )


def test_this_processs_own_temporary_files_are_kept(tmp_path):
    own = tmp_path / f".weights.npz.{os.getpid()}.0123abcd.tmp.npz"
    own.write_bytes(b"being written by this process")
    assert artifacts.remove_leftovers(tmp_path) == []
    assert own.exists()


def test_every_dead_writers_leftover_is_removed_among_other_files_and_listed(tmp_path):
    dead = dead_pid()
    leftovers = [tmp_path / f".f{i}.json.{dead}.0123abcd.tmp.json" for i in range(5)]
    others = [tmp_path / f"{name}.json" for name in "abcde"]
    for path in leftovers + others:
        path.write_text("{}")
    assert sorted(artifacts.remove_leftovers(tmp_path)) == sorted(leftovers)
    assert sorted(tmp_path.iterdir()) == sorted(others)


def test_remove_leftovers_of_a_missing_folder_removes_nothing(tmp_path):
    assert artifacts.remove_leftovers(tmp_path / "absent") == []


def test_json_files_are_indented_by_two_spaces_and_end_with_a_newline(tmp_path):
    data = {"a": [1, 2], "b": {"c": 0.5}}
    artifacts.write_json(tmp_path, "m.json", data)
    assert (tmp_path / "m.json").read_text() == json.dumps(data, indent=2) + "\n"


def test_unreadable_json_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text('{"a": ')
    with pytest.raises(MnistbenchError) as error:
        artifacts.read_json(path)
    assert str(error.value).startswith(f"{path}: cannot read JSON (Expecting value")
    with pytest.raises(MnistbenchError, match=f"{tmp_path / 'absent.json'}: cannot read JSON"):
        artifacts.read_json(tmp_path / "absent.json")


def test_json_that_is_not_an_object_is_refused_naming_its_type(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("[1, 2]")
    with pytest.raises(MnistbenchError) as error:
        artifacts.read_json(path)
    assert str(error.value) == f"{path}: expected a JSON object, got list"


def test_a_writer_of_another_user_is_taken_as_alive():
    """Asking whether another user's process lives is refused (EPERM); it lives, so its
    temporary file stays. Process 1 belongs to root; as root, the test asks as user nobody, in
    a folder anyone may list and delete from, so only the liveness answer keeps the file."""
    folder = Path(tempfile.mkdtemp(prefix="mnistbench-leftovers-"))
    try:
        folder.chmod(0o777)
        live = folder / ".train.json.1.0123abcd.tmp.json"
        live.write_bytes(b"being written")
        as_root = os.geteuid() == 0
        if as_root:
            os.setresuid(65534, 65534, 0)  # nobody; the saved user id stays root to come back
        try:
            removed = artifacts.remove_leftovers(folder)
        finally:
            if as_root:
                os.setresuid(0, 0, 0)
        assert removed == [] and live.exists()
    finally:
        shutil.rmtree(folder)
