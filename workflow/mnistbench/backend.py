"""Moved to :mod:`mnistbench.plugin.backend` (imports warn)."""

from mnistbench._moved import moved

moved(__name__, "mnistbench.plugin.backend")
