"""Fixtures shared with the older compare tests: two result folders from real training."""

from tests.report.test_compare import before_and_after  # noqa: F401 - a fixture, used by name
