"""`idpack relay` as a process: the upstream is down, then back; everything accepted is
delivered, and the queue listing and the Prometheus metrics say so along the way."""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import requests

from idpack.processes import free_port
from mail.dkim_keys import generate
from tests.peers.mail.test_relay_crash import start_relay
from tests.support.realm import REPO
from tests.support.smtp_peer import smtp_peer


def metric(port: int, name: str) -> float:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not in the metrics:\n{text}"
    return float(found.group(1))


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_upstream_down_then_back_delivers_everything(tmp_path: Path) -> None:
    generate(tmp_path / "dkim", "proc")
    port, metrics_port, upstream_port = free_port(), free_port(), free_port()
    env = {**os.environ, "IDPACK_HOME": str(tmp_path), "IDPACK_RELAY_PORT": str(port),
           "IDPACK_DKIM_SELECTOR": "proc", "IDPACK_RELAY_METRICS_PORT": str(metrics_port),
           "IDPACK_RELAY_UPSTREAM": f"smtp://127.0.0.1:{upstream_port}",  # nothing there yet
           "IDPACK_RELAY_UPSTREAM_STARTTLS": "false",
           "IDPACK_RELAY_BACKOFF_FIRST": "1", "IDPACK_RELAY_BACKOFF_MAX": "2"}
    relay = start_relay(env, port, tmp_path / "relay.log")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for number in range(20):
                client.sendmail("no-reply@mikrocloud.com", [f"u{number}@example.org"],
                                f"From: no-reply@mikrocloud.com\r\nTo: u{number}@example.org\r\n"
                                f"Subject: n{number}\r\n\r\nbody {number}\r\n".encode())
        assert metric(metrics_port, "idpack_relay_accepted_total") == 20
        wait_for(lambda: metric(metrics_port, "idpack_relay_deferred_total") >= 20, 20,
                 "the relay did not try the missing upstream")
        assert metric(metrics_port, "idpack_relay_queue_depth") == 20
        assert metric(metrics_port, "idpack_relay_delivered_total") == 0
        listing = subprocess.run([sys.executable, "-m", "idpack", "relay", "queue"], cwd=REPO,
                                 env=env, capture_output=True, text=True, timeout=30)
        assert listing.stdout.startswith("20 queued, 0 dead-lettered"), listing.stdout
        assert "no connection" in listing.stdout

        with smtp_peer(upstream_port) as (_, received):  # the upstream comes back
            wait_for(lambda: len(received.messages) >= 20, 30,
                     "the queue was not delivered once the upstream was back")
            time.sleep(0.5)
            assert len(received.messages) == 20
            assert set(received.greetings) == {"mailman.mikrocloud.com"}  # the relay's EHLO
        assert metric(metrics_port, "idpack_relay_delivered_total") == 20
        assert metric(metrics_port, "idpack_relay_queue_depth") == 0
        assert metric(metrics_port, "idpack_relay_dead_lettered_total") == 0
    finally:
        relay.terminate()
        relay.wait(30)
    log = (tmp_path / "relay.log").read_text()
    assert re.search(r"queued \S+ from <no-reply@mikrocloud.com> to u0@example.org", log)
    assert "deferred (attempt 1" in log
    assert "stopped; 0 message(s) still queued" in log
