"""Provenance recorded with every run: the project's commit, the CPU, the thread setting."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

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


def test_a_runs_memory_counts_what_it_allocates_after_the_baseline_not_before():
    if not provenance.STATUS.exists():
        pytest.skip("the kernel's peak reset is Linux's (/proc/self/clear_refs)")
    held_before = np.ones(40 * 2**20 // 8)  # 40 MiB resident before the baseline: not the run's
    baseline = provenance.memory_baseline()
    assert memory_now_mib() - baseline < 5  # the baseline is the memory held now
    own = np.ones(60 * 2**20 // 8)  # 60 MiB touched after it: the run's own
    taken = provenance.memory_above(baseline)
    del own, held_before
    assert 55 < taken < 80, taken  # the 60 MiB, not the 100 MiB the process held in all


def memory_now_mib() -> float:
    return provenance._status_mib("VmRSS") or provenance.peak_rss_mb()


def test_a_jobs_load_at_start_and_end_becomes_provenance_items():
    now = provenance.load()
    if "load_average" not in now or "memory_mib" not in now:
        pytest.skip("needs os.getloadavg and /proc/meminfo (Linux)")
    assert len(now["load_average"]) == 3 and 0 < now["memory_available_mib"] <= now["memory_mib"]
    at = {"start": {"load_average": [2.5, 1.0, 0.5], "memory_available_mib": 1000,
                    "memory_mib": 4096},
          "end": {"load_average": [3.0, 1.25, 0.5]}}  # fmt: skip
    assert provenance.load_items(at) == {
        "load average at the job's start (1, 5, 15 min)": "2.5, 1, 0.5",
        "memory available at the job's start (MiB)": "1,000 of 4,096",
        "load average at the job's end (1, 5, 15 min)": "3, 1.25, 0.5",
    }


def test_uncommitted_changes_are_the_workflow_directorys_not_the_packages(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    assert provenance.workflow_changes(tmp_path) is None  # not a checkout: unknown
    git("init", "-q")
    (tmp_path / "config.yaml").write_text("seeds: [0]\n")
    git("add", "config.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "config")
    assert provenance.workflow_changes(tmp_path) is False
    (tmp_path / "config.yaml").write_text("seeds: [0, 1]\n")  # an edited config
    assert provenance.workflow_changes(tmp_path) is True
    recorded = {"project": {"commit": "abc", "dirty": False, "workflow_dirty": True}}
    assert provenance.flatten(recorded)["uncommitted changes"] == "yes"
