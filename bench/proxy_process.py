"""The recording proxy (tests/support/recording_proxy.py) in a process of its own, for
benchmarks whose callers run as threads of the benchmark's process: in that process the
proxy's threads took the interpreter lock from the callers whose latency was being
timed. The child writes each request it forwards as a line of a log file; `count()`
reads them (after a short wait, so that requests forwarded just before are written)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from idpack.processes import free_port
from tests.support.recording_proxy import recording_proxy

FLUSH_SECONDS = 0.05


class ProxyProcess:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def count(self) -> int:
        time.sleep(2 * FLUSH_SECONDS)
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@contextmanager
def proxy_process(upstream: str) -> Iterator[ProxyProcess]:
    with tempfile.TemporaryDirectory(prefix="idpack-proxy-") as folder:
        log, port = Path(folder) / "requests.log", free_port()
        child = subprocess.Popen([sys.executable, "-m", "bench.proxy_process", upstream,
                                  str(port), str(log)], cwd=Path(__file__).parents[1])
        try:
            url = f"http://127.0.0.1:{port}"
            ready = Path(f"{log}.ready")
            deadline = time.monotonic() + 30
            while not ready.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the recording proxy process did not start")
                time.sleep(0.05)
            yield ProxyProcess(url, log)
        finally:
            child.terminate()
            child.wait(10)


def main() -> None:
    upstream, port, log = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    with recording_proxy(upstream, port=port) as recorded, log.open("a") as out:
        Path(f"{log}.ready").touch()
        written = 0
        while True:
            lines = recorded.since(written)
            for method, path in lines:
                out.write(f"{method} {path}\n")
            out.flush()
            written += len(lines)
            time.sleep(FLUSH_SECONDS)


if __name__ == "__main__":
    main()
