"""Keycloak nodes on one database start one at a time (deploy/images/keycloak/start-in-turn,
the Keycloak image's entrypoint): Keycloak 26.3 and later let two nodes that start at
once on an empty database both create the schema, and one exits. CI saw it:
"relation databasechangelog already exists" from a node of the deploy test's stack.

The script runs here as in the image, against the real PostgreSQL, around a stand-in for
kc.sh that notes when it starts, gets ready (answers /health/ready) or dies: whether the
real Keycloak loses that race depends on two nodes reaching one statement in the same
moment, so the lock's order is what is tested."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from idpack.processes import free_port
from tests.integration.conftest import Postgres
from tests.support.eventually import eventually

START_IN_TURN = Path(__file__).parents[2] / "deploy" / "images" / "keycloak" / "start-in-turn"

# kc.sh's stand-in: `start` among its arguments, as in the image's command.
NODE = """
import http.server, os, signal, sys, time
notes, delay, outcome = sys.argv[2], float(sys.argv[3]), sys.argv[4]
def note(what):
    with open(notes, "a") as file:
        file.write(f"{what} {time.time()}\\n")
signal.signal(signal.SIGTERM, lambda *_: (note("stopped"), os._exit(0)))
note("started")
time.sleep(delay)
if outcome == "dies":
    note("died")
    sys.exit(3)
if outcome == "hangs":
    time.sleep(3600)
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(os.environ["KC_HTTP_MANAGEMENT_PORT"])),
                                Ready)
note("ready")
server.serve_forever()
"""


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    notes: Path
    log: Path

    def times(self) -> dict[str, float]:
        if not self.notes.exists():
            return {}
        pairs = (line.split() for line in self.notes.read_text().splitlines())
        return {what: float(when) for what, when in pairs}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


StartNode = Callable[..., Node]


@pytest.fixture
def start_node(postgres: Postgres, tmp_path: Path) -> Iterator[StartNode]:
    nodes: list[Node] = []
    script = tmp_path / "node.py"
    script.write_text(NODE)

    def start(name: str, *, delay: float, outcome: str = "ready", turn: int = 60,
              database: str = "parts") -> Node:
        notes, log = tmp_path / f"{name}.notes", tmp_path / f"{name}.log"
        # The database as the compose file gives it (parts), or as one JDBC URL.
        where = ({"KC_DB_URL_HOST": "127.0.0.1", "KC_DB_URL_PORT": str(postgres.port),
                  "KC_DB_URL_DATABASE": postgres.database} if database == "parts" else
                 {"KC_DB_URL": f"jdbc:postgresql://127.0.0.1:{postgres.port}/"
                               f"{postgres.database}?currentSchema=public"})
        env = {**os.environ, **where, "KC_DB_USERNAME": postgres.user,
               "KC_DB_PASSWORD": postgres.password, "KC_HTTP_MANAGEMENT_PORT": str(free_port()),
               "START_TURN_SECONDS": str(turn)}
        with log.open("wb") as err:
            process = subprocess.Popen([str(START_IN_TURN), sys.executable, str(script), "start",
                                        str(notes), str(delay), outcome],
                                       env=env, stdout=err, stderr=subprocess.STDOUT)
        node = Node(process, notes, log)
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.stop()


def first_and_second(a: Node, b: Node) -> tuple[Node, Node]:
    return (a, b) if a.times()["started"] <= b.times()["started"] else (b, a)


@pytest.mark.parametrize("database", ["parts", "url"])
def test_two_nodes_started_at_once_start_one_after_the_other(start_node: StartNode,
                                                             database: str) -> None:
    a, b = start_node("a", delay=2), start_node("b", delay=2, database=database)
    eventually(lambda: [a.times(), b.times()], lambda ts: all("ready" in t for t in ts),
               within=30)
    first, second = first_and_second(a, b)
    assert second.times()["started"] >= first.times()["ready"], (a.times(), b.times())
    assert "waiting while another Keycloak node starts" in second.log.read_text()
    # Both keep running; a stop reaches the node and is its exit status.
    assert [a.process.poll(), b.process.poll()] == [None, None]
    assert [a.stop(), b.stop()] == [0, 0]
    assert ["stopped" in a.times(), "stopped" in b.times()] == [True, True]


def test_a_node_that_dies_while_starting_lets_the_next_start_at_once(start_node: StartNode) -> None:
    dying = start_node("dying", delay=2, outcome="dies")
    eventually(dying.times, lambda t: "started" in t, within=15)
    waiting = start_node("waiting", delay=0)
    assert dying.process.wait(timeout=30) == 3  # Keycloak's exit status is the script's
    eventually(waiting.times, lambda t: "ready" in t, within=15)
    # Not after the turn's 60 s: at the death.
    assert 0 <= waiting.times()["started"] - dying.times()["died"] < 5


def test_a_node_never_ready_lets_the_next_start_after_its_turn(start_node: StartNode) -> None:
    hanging = start_node("hanging", delay=0, outcome="hangs", turn=3)
    eventually(hanging.times, lambda t: "started" in t, within=15)
    waiting = start_node("waiting", delay=0)
    eventually(waiting.times, lambda t: "ready" in t, within=20)
    assert waiting.times()["started"] - hanging.times()["started"] >= 3
    assert hanging.process.poll() is None  # still running: only the turn ended
    assert "not ready after 3 s" in hanging.log.read_text()


def test_a_command_other_than_start_runs_without_the_database() -> None:
    done = subprocess.run([str(START_IN_TURN), "echo", "show-config"], capture_output=True,
                          text=True, timeout=10, env={"PATH": os.defpath, "KC_DB_URL_PORT": "1"})
    assert (done.returncode, done.stdout) == (0, "show-config\n")
