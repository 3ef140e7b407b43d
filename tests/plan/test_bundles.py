"""How wide a SLURM bundle of CPU runs is, against the CPUs of the partition's nodes."""

from __future__ import annotations

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plan import bundles


@pytest.mark.parametrize(
    ("runs", "threads", "cores", "cpus", "wide"),
    [
        (8, 1, None, 2, 2),  # no --cores: as wide as a node
        (8, 1, None, 64, 8),  # a large node: the runs side by side
        (8, 2, 4, 16, 4),  # --cores narrows it
        (2, 1, 8, 2, 2),  # two runs are two CPUs wide whatever --cores allows
    ],
)
def test_a_bundle_is_at_most_as_wide_as_cores_and_a_node(runs, threads, cores, cpus, wide):
    assert bundles.width(runs, threads, cores, cpus, "debug") == wide


def test_cores_wider_than_a_node_is_refused_naming_both_numbers():
    with pytest.raises(MnistbenchError) as error:
        bundles.width(8, 1, 8, 2, "debug")
    assert str(error.value) == (
        "--cores 8 makes a CPU bundle 8 CPUs wide, more than the 2 a node of partition 'debug'"
        " has: give --cores 2, or leave it out (a bundle is then as wide as a node)"
    )


def test_a_run_with_more_threads_than_a_node_has_cpus_is_refused():
    with pytest.raises(MnistbenchError) as error:
        bundles.width(8, 4, None, 2, "debug")
    assert str(error.value) == (
        "a run of 4 threads needs 4 CPUs, more than the 2 a node of partition 'debug' has: ask"
        " for at most 2 threads"
    )


def test_without_sinfo_nothing_is_known(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without SLURM's commands
    assert bundles.node_cpus("debug") is None
