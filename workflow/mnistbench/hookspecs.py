"""Moved to :mod:`mnistbench.plugin.hookspecs` (imports warn)."""

from mnistbench._moved import moved

moved(__name__, "mnistbench.plugin.hookspecs")
