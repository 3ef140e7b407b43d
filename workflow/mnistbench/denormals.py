"""Moved to :mod:`mnistbench.plugin.denormals` (imports warn)."""

from mnistbench._moved import moved

moved(__name__, "mnistbench.plugin.denormals")
