"""One status line for long work: redrawn in place on a terminal, a line every few
seconds in a log (CI), so a long download is never silent and never floods."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, log_interval: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._log_interval = log_interval
        self._last_logged = 0.0
        self._width = 0

    def update(self, text: str) -> None:
        if self._tty:
            padding = " " * max(0, self._width - len(text))
            self._stream.write(f"\r{text}{padding}")
            self._width = len(text)
            self._stream.flush()
            return
        now = time.monotonic()
        if now - self._last_logged >= self._log_interval:
            self._last_logged = now
            self._stream.write(text + "\n")
            self._stream.flush()

    def done(self, text: str) -> None:
        if self._tty:
            padding = " " * max(0, self._width - len(text))
            self._stream.write(f"\r{text}{padding}\n")
            self._width = 0
        else:
            self._stream.write(text + "\n")
        self._stream.flush()


def say(text: str, stream: TextIO | None = None) -> None:
    """A line of what happened, on stderr so stdout stays for results."""
    out = stream or sys.stderr
    out.write(text + "\n")
    out.flush()
