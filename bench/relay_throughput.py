"""Messages a second through the relay, end to end: SMTP clients -> relay (checks, both
DKIM signatures, fsync spool) -> delivery worker -> an SMTP sink. The baseline, in the
same run, is the same pipeline signing RSA with dkimpy's own pure-Python code. Also
the signing-only rates of both.

    .venv/bin/python bench/relay_throughput.py [--messages 1500] [--clients 8] [--rounds 3]

The upstream is Postfix's smtp-sink where Debian's postfix is installed (C, next to no
CPU, as a real smarthost elsewhere would cost the relay nothing), else a Python sink.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import smtplib
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from idpack.processes import die_with_parent, free_port
from mail.delivery import Backoff
from mail.dkim_keys import DkimKeys, generate
from mail.relay import Delivery, Relay
from mail.settings import RelaySettings
from mail.signing import Signer, stock_dkimpy_sign
from tests.support.smtp_peer import smtp_peer


class StockSigner(Signer):
    def sign(self, message: bytes) -> bytes:
        return stock_dkimpy_sign(self.keys, self.domain.decode(), message)


def message(number: int) -> bytes:
    return (f"From: MikroCloud <no-reply@mikrocloud.com>\r\nTo: user{number}@example.org\r\n"
            f"Subject: Verify Email Address\r\nMessage-ID: <bench-{number}@mikrocloud.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + "Hello, this is a benchmark message of ordinary length.\r\n" * 20).encode()


def run_relay(settings: RelaySettings, stock: bool, ready: Any) -> None:
    """The relay's SMTP side in a process of its own, as `idpack relay` runs it."""
    relay = Relay.build(settings, Backoff(first=1, maximum=1))
    if stock:
        relay.pipeline.signer = StockSigner(relay.pipeline.signer.keys, "mikrocloud.com")
    relay.start()
    ready.set()
    relay.stopping.wait()


def run_delivery(settings: RelaySettings) -> None:
    """The delivery worker, a process of its own as in `idpack relay`."""
    Delivery.build(settings).run(0.05)


def run_sink(port: int, count: Any, ready: Any) -> None:
    """The upstream: Postfix's smtp-sink (C, next to no CPU) where Debian's postfix is
    installed, else the tests' aiosmtpd peer (Python, which takes CPU from the relay)."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        with smtp_peer(port) as (_, received):
            ready.set()
            while True:
                count.value = len(received.messages)
                time.sleep(0.005)
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([binary, "-c", *user, f"127.0.0.1:{port}", "256"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)
    assert sink.stdout is not None
    ready.set()
    pending = b""
    while chunk := os.read(sink.stdout.fileno(), 4096):  # "sess=.. quit=.. mesg=N" lines, CR-ended
        pending += chunk
        counts = re.findall(rb"mesg=(\d+)", pending)
        if counts:
            count.value = int(counts[-1])
        pending = pending[-64:]


def sink_name() -> str:
    found = shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists()
    return "Postfix smtp-sink" if found else "aiosmtpd sink (install postfix for smtp-sink)"


def end_to_end(root: Path, stock: bool, messages: int, clients: int) -> float:
    generate(root / "dkim", "bench", overwrite=True)
    spawn = multiprocessing.get_context("spawn")
    sink_port, count, sink_ready = free_port(), spawn.Value("i", 0), spawn.Event()
    sink = spawn.Process(target=run_sink, args=(sink_port, count, sink_ready), daemon=True)
    sink.start()
    sink_ready.wait(30)
    settings = RelaySettings.from_env(
        {"IDPACK_HOME": str(root)}, stack_file=False, port=free_port(), dkim_selector="bench",
        upstream=f"smtp://127.0.0.1:{sink_port}", upstream_starttls=False, metrics_port=0)
    relay_ready = spawn.Event()
    relay = spawn.Process(target=run_relay, args=(settings, stock, relay_ready), daemon=True)
    relay.start()
    relay_ready.wait(30)
    delivery = spawn.Process(target=run_delivery, args=(settings,), daemon=True)
    delivery.start()
    try:
        started = time.perf_counter()

        def send(offset: int) -> None:
            with smtplib.SMTP("127.0.0.1", settings.port) as client:
                for number in range(offset, messages, clients):
                    client.sendmail("no-reply@mikrocloud.com", [f"user{number}@example.org"],
                                    message(number))

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, range(clients)))
        while count.value < messages:
            time.sleep(0.01)
        return messages / (time.perf_counter() - started)
    finally:
        relay.terminate()
        delivery.terminate()
        sink.terminate()


def signing_rate(keys: DkimKeys, stock: bool, count: int = 300) -> float:
    signer = Signer(keys, "mikrocloud.com")
    body = message(0)
    started = time.perf_counter()
    for _ in range(count):
        if stock:
            stock_dkimpy_sign(keys, "mikrocloud.com", body)
        else:
            signer.sign(body)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds of each; medians are reported, since "
                             "shared machines are noisy")
    args = parser.parse_args()
    fast: list[float] = []
    stock: list[float] = []
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch:
        root = Path(scratch)
        keys = generate(root / "keys", "sign")
        fast_sign, stock_sign = signing_rate(keys, False), signing_rate(keys, True, 100)
        print(f"signing only (RSA + Ed25519): idpack {fast_sign:6.0f}/s, stock dkimpy "
              f"{stock_sign:6.0f}/s, ratio {fast_sign / stock_sign:.1f}", flush=True)
        print(f"end to end, {args.messages} messages, {args.clients} clients, fsync on, "
              f"upstream {sink_name()}:")
        for number in range(args.rounds):
            fast.append(end_to_end(root / f"fast{number}", False, args.messages, args.clients))
            stock.append(end_to_end(root / f"stock{number}", True, args.messages,
                                    args.clients))
            print(f"  round {number + 1}: idpack {fast[-1]:4.0f}/s, stock {stock[-1]:4.0f}/s",
                  flush=True)
    best, base = statistics.median(fast), statistics.median(stock)
    print(f"  idpack relay          {best:6.0f} messages/s (median)")
    print(f"  with stock dkimpy RSA {base:6.0f} messages/s (baseline, median)")
    print(f"  ratio {best / base:.1f} (targets: >= 300 messages/s, >= 3x)")


if __name__ == "__main__":
    main()
