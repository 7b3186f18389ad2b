"""What running processes takes: free ports, services the local stack runs as child
processes (start one, wait until it answers, stop it, never leave one behind), the end
of a log, and stop signals."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType

import requests

from idpack.errors import IdpackError


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Whether another process listens there (a port merely in TIME_WAIT counts as
    free, as Java and Python servers reuse it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            return True
    return False


def log_tail(path: Path, lines: int = 40) -> str:
    """The end of a log (however long it grew), for an error message."""
    try:
        with path.open("rb") as f:
            return b"".join(deque(f, maxlen=lines)).decode("utf-8", "replace").rstrip()
    except OSError:
        return f"({path} could not be read)"


def die_with_parent() -> None:
    """Runs in the child before exec: if idpack dies without stopping it (a SIGKILL, a
    crash), the kernel sends the child SIGTERM instead of leaving it running."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def popen_options() -> dict[str, object]:
    """Own process group (Ctrl-C reaches idpack, which stops children in order) and
    death with the parent."""
    return {"start_new_session": True,
            "preexec_fn": die_with_parent if sys.platform == "linux" else None}


def log_ready(log_path: Path, text: str) -> Callable[[], bool]:
    """Ready once the log, from its present end on, says `text` (for a worker with no
    port to ask)."""
    start = log_path.stat().st_size if log_path.exists() else 0

    def check() -> bool:
        try:
            with log_path.open("rb") as log:
                log.seek(start)
                return text.encode() in log.read()
        except OSError:
            return False
    return check


def http_ready(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False
    return check


def tcp_ready(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=2):
                return True
        except OSError:
            return False
    return check


def stop_process_group(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Graceful SIGTERM to the child's whole group, SIGKILL after the timeout; returns
    once it is gone."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class ChildService:
    def __init__(self, name: str, command: Sequence[str], env: Mapping[str, str],
                 log_path: Path, ready: Callable[[], bool], cwd: Path | None = None) -> None:
        self.name, self.command, self.env = name, list(command), dict(env)
        self.log_path, self.ready, self.cwd = log_path, ready, cwd
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Seconds until the service answered its readiness URL."""
        started = time.monotonic()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, **popen_options())  # type: ignore[call-overload]
        while True:
            if self._process.poll() is not None:
                raise IdpackError(f"{self.name} exited with code {self._process.returncode} "
                                  f"while starting. The end of {self.log_path}:\n"
                                  + log_tail(self.log_path, 30))
            if self.ready():
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                self.stop()
                raise IdpackError(f"{self.name} was not ready within "
                                  f"{timeout:.0f} s. The end of {self.log_path}:\n"
                                  + log_tail(self.log_path, 30))
            time.sleep(0.2)

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process else None

    @property
    def pid(self) -> int:
        """The started process's id (for a benchmark that reads its memory)."""
        if self._process is None:
            raise IdpackError(f"{self.name} was not started")
        return self._process.pid

    def stop(self, timeout: float = 20.0) -> None:
        stop_process_group(self._process, timeout)


def set_on_signals(event: threading.Event, *signums: int) -> None:
    """Set `event` when one of these signals arrives. Not from the handler itself:
    Event.set takes a plain (not reentrant) lock that the interrupted main thread may
    be holding inside Event.wait at that instant, which would deadlock the process. A
    short-lived thread sets it once the main thread lets go."""
    def handler(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=event.set, name="stop", daemon=True).start()

    for signum in signums:
        signal.signal(signum, handler)
