"""Moved to :mod:`mnistbench.plugin.testing` (imports warn)."""

from mnistbench._moved import moved

moved(__name__, "mnistbench.plugin.testing")
