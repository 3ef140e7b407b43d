"""What a backend reports about its framework (version, why it is missing) without importing it."""

from __future__ import annotations

import numpy as np

from mnistbench.plugin.frameworks import installed_version, missing_reason

ABSENT = "mnistbench_no_such_framework"  # a name no distribution or module here has


def test_the_version_is_the_installed_distributions():
    assert installed_version("numpy") == np.__version__


def test_a_distribution_not_installed_has_version_not_installed():
    assert installed_version(ABSENT) == "not installed"


def test_an_importable_framework_is_not_missing():
    assert missing_reason("numpy", "NumPy") is None


def test_a_missing_framework_is_named_with_its_pip_install():
    assert missing_reason(ABSENT, "Absent") == f"Absent is not installed (pip install {ABSENT})"


def test_the_pip_install_names_the_distribution_where_it_differs_from_the_module():
    reason = missing_reason(ABSENT, "Absent", distribution="absent-framework")
    assert reason == "Absent is not installed (pip install absent-framework)"
