"""Provenance recorded with every run: the project's commit, the CPU, the thread setting."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mnistbench.training import provenance


def git(where: Path, *args: str) -> str:
    command = ["git", "-C", str(where), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=True).stdout


def test_the_commit_is_the_checkouts_head_and_a_change_makes_it_dirty(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git(tmp_path, "add", "a.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    head = git(tmp_path, "rev-parse", "HEAD").strip()
    assert provenance.project(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "a.py").write_text("x = 2\n")
    assert provenance.project(tmp_path) == {"commit": head, "dirty": True}


def test_outside_a_git_checkout_the_commit_is_unknown(tmp_path):
    assert provenance.project(tmp_path) == {"commit": "unknown", "dirty": None}


def test_the_cpu_model_is_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    assert provenance.cpu_model(cpuinfo) == "AMD EPYC 7B13"


def test_flatten_names_every_item_and_marks_what_an_old_run_lacks():
    items = provenance.flatten({"backend": "numpy", "backend_version": "2.1", "versions": {}})
    assert items["framework"] == "numpy 2.1"
    assert items["commit"] == "unknown" and items["CPU model"] == "unknown"
