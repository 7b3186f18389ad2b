"""How long until Keycloak answers, with idpack's harness and with plain `kc.sh start-dev`.

The baseline is what Keycloak's own getting-started guide runs: `start-dev` on a private
copy of the same distribution, which re-augments the server at every start. idpack builds
once and then starts `--optimized`. Both run here, now, on fresh databases, so the ratio
holds on a noisy shared machine where the seconds alone would not.

    .venv/bin/python bench/keycloak_start.py [--rounds N]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import tempfile
from pathlib import Path

from idpack.keycloak.distribution import KeycloakDistribution, prepare_distribution
from idpack.keycloak.server import KeycloakServer
from idpack.keycloak.settings import HarnessSettings
from idpack.processes import free_port

# Health is a build-time option, and start-dev rebuilds without it unless asked.
DEV_COMMAND = ("start-dev", "--health-enabled=true")


def time_start(dist: KeycloakDistribution, instance: Path, command: tuple[str, ...]) -> float:
    server = KeycloakServer(dist, instance, host="127.0.0.1", http_port=free_port(),
                            management_port=free_port(), admin_user="admin",
                            admin_password=secrets.token_urlsafe(18), start_command=command)
    try:
        server.start(timeout=600)
        assert server.startup_seconds is not None
        return server.startup_seconds
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="starts of each kind (default 1)")
    rounds = parser.parse_args().rounds
    dist = prepare_distribution(HarnessSettings.from_env())
    optimized_fresh, optimized_warm, dev_fresh = [], [], []
    with tempfile.TemporaryDirectory(prefix="idpack-bench-") as scratch:
        root = Path(scratch)
        # start-dev rewrites the build in lib/, so it gets a copy, never the shared cache.
        copy = root / "dist-copy"
        shutil.copytree(dist.home, copy, symlinks=True)
        plain = KeycloakDistribution(version=dist.version, home=copy, jdk=dist.jdk)
        for n in range(rounds):
            dev_fresh.append(time_start(plain, root / f"dev-{n}", DEV_COMMAND))
            instance = root / f"optimized-{n}"
            optimized_fresh.append(time_start(dist, instance, ("start", "--optimized")))
            optimized_warm.append(time_start(dist, instance, ("start", "--optimized")))

    def show(label: str, values: list[float]) -> float:
        median = statistics.median(values)
        print(f"{label:<44} median {median:6.1f} s   ({', '.join(f'{v:.1f}' for v in values)})")
        return median

    print(f"Keycloak {dist.version} on Java {dist.jdk.version}, {rounds} round(s)")
    baseline = show("baseline: kc.sh start-dev, new database", dev_fresh)
    fresh = show("idpack: start --optimized, new database", optimized_fresh)
    warm = show("idpack: start --optimized, existing database", optimized_warm)
    print(f"ratio idpack/baseline, new database:      {fresh / baseline:.2f}")
    print(f"ratio idpack/baseline, existing database: {warm / baseline:.2f}")
    print("target: ready within 40 s from a warm cache")


if __name__ == "__main__":
    main()
