"""The exceptions whose message reaches the user as a single line."""

from __future__ import annotations

import signal


class MnistbenchError(Exception):
    """A problem with the user's input (data, config, plugin) that deserves one clear line.

    The message names the thing and the problem; the CLI prints it as
    ``mnistbench <step>: error: <message>`` and exits non-zero, with no traceback.
    """


class Stopped(KeyboardInterrupt):
    """A step stopped by a signal (Ctrl-C, or SIGTERM from a time limit or a cancelled job).

    A ``KeyboardInterrupt``, so that both signals unwind the same way and temporary files go.
    Training fills in where it stopped; the CLI prints ``stopped by <signal> <where>`` and exits
    with 128 + the signal's number.
    """

    def __init__(
        self,
        signum: signal.Signals = signal.SIGINT,
        *,
        epoch: int | None = None,
        unsaved_seconds: float = 0.0,
        where: str = "",
    ) -> None:
        super().__init__(signum)
        self.signum = signum
        self.epoch = epoch  # the epoch it stopped in, from 0; None outside training
        self.unsaved_seconds = unsaved_seconds  # training time not yet in a checkpoint
        self.where = where  # for the user: "in epoch 3 of 20: 2 epochs kept in ..."

    @classmethod
    def from_interrupt(cls, interrupt: KeyboardInterrupt) -> Stopped:
        """``interrupt`` as a :class:`Stopped`: itself if it is one, else Ctrl-C's SIGINT."""
        return interrupt if isinstance(interrupt, cls) else cls(signal.SIGINT)
