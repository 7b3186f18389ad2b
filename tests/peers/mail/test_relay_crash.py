"""Nothing accepted is lost: the relay SIGKILLed in the middle of a burst of 500."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from idpack.processes import free_port
from mail.dkim_keys import generate
from tests.support.realm import REPO
from tests.support.smtp_peer import smtp_peer


def start_relay(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "idpack", "relay"], cwd=REPO, env=env,
                               stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return process
        except OSError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def message(number: int) -> bytes:
    return (f"From: MikroCloud <no-reply@mikrocloud.com>\r\nTo: burst@example.org\r\n"
            f"Subject: burst {number}\r\nMessage-ID: <burst-{number}@mikrocloud.com>\r\n\r\n"
            f"message {number}\r\n").encode()


def test_every_message_answered_250_is_delivered_after_a_sigkill(tmp_path: Path) -> None:
    generate(tmp_path / "dkim", "burst")
    port = free_port()
    log = tmp_path / "relay.log"
    with smtp_peer() as (upstream_port, received):
        env = {**os.environ, "IDPACK_HOME": str(tmp_path), "IDPACK_RELAY_PORT": str(port),
               "IDPACK_DKIM_SELECTOR": "burst",
               "IDPACK_RELAY_UPSTREAM": f"smtp://127.0.0.1:{upstream_port}",
               "IDPACK_RELAY_UPSTREAM_STARTTLS": "false",
               "IDPACK_RELAY_METRICS_PORT": str(free_port()),
               # a delivery that fails while the machine is loaded is retried in the window
               "IDPACK_RELAY_BACKOFF_FIRST": "1", "IDPACK_RELAY_BACKOFF_MAX": "2"}
        relay = start_relay(env, port, log)
        accepted: list[int] = []
        # The kill comes from another thread at a moment of its own, so it can land
        # inside a DATA transaction, between fsync and reply, anywhere.
        killer = threading.Timer(0.8, relay.send_signal, args=(signal.SIGKILL,))
        try:
            client = smtplib.SMTP("127.0.0.1", port, timeout=10)
            killer.start()
            for number in range(500):
                try:
                    client.sendmail("no-reply@mikrocloud.com", ["burst@example.org"],
                                    message(number))
                    accepted.append(number)
                except (smtplib.SMTPException, OSError):
                    break
        finally:
            killer.join()
            relay.kill()
            relay.wait()
        assert 0 < len(accepted) < 500  # the kill landed mid-burst

        relay = start_relay(env, port, log)
        try:
            deadline = time.monotonic() + 90
            delivered = Counter[str]()
            while time.monotonic() < deadline:
                delivered = Counter(str(m["Message-ID"]) for _, m in received.messages)
                if all(f"<burst-{n}@mikrocloud.com>" in delivered for n in accepted):
                    break
                time.sleep(0.2)
        finally:
            relay.terminate()
            relay.wait(30)

    lost = [n for n in accepted if f"<burst-{n}@mikrocloud.com>" not in delivered]
    duplicates = sum(count - 1 for count in delivered.values() if count > 1)
    print(f"accepted {len(accepted)}, delivered {len(delivered)}, lost {len(lost)}, "
          f"duplicates {duplicates}")
    assert lost == [], log.read_text()[-6000:]
