"""Moved to :mod:`mnistbench.variants.reference` (imports warn)."""

from mnistbench._moved import moved

moved(__name__, "mnistbench.variants.reference")
