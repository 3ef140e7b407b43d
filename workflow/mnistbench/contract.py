"""Moved to :mod:`mnistbench.plugin.contract` (imports warn)."""

from mnistbench._moved import moved

moved(__name__, "mnistbench.plugin.contract")
