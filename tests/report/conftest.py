"""Fixtures shared between test modules: two result folders from real training (compare), one
known run to copy into the points of a sweep (the sweep tests)."""

from tests.report.test_aggregate_sweeps import source  # noqa: F401 - a fixture, used by name
from tests.report.test_compare import before_and_after  # noqa: F401 - a fixture, used by name
