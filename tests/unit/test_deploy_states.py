"""How `idpack deploy up|status` reads the engine's state of a container."""

from idpack.commands.deploy_stack import ServiceState, container_status


def state(service: str, engine_status: str, exit_code: int) -> ServiceState:
    return ServiceState(service, "c", container_status(engine_status), exit_code, "none", "")


def test_a_realm_job_podman_left_stopped_with_exit_0_is_done() -> None:
    # podman 4.3 on CI left the job "stopped" (never cleaned up) and `up` waited 600 s.
    assert state("realm", "stopped", 0).ready
    assert state("realm", "exited", 0).ready


def test_a_realm_job_that_failed_is_failed_whether_stopped_or_exited() -> None:
    for engine_status in ("stopped", "exited"):
        job = state("realm", engine_status, 1)
        assert job.failed
        assert not job.ready


def test_a_service_that_stopped_has_failed_and_a_running_one_waits_for_health() -> None:
    assert state("sidecar-1", "stopped", 0).failed
    assert not state("sidecar-1", "running", 0).failed
    assert not ServiceState("sidecar-1", "c", "running", 0, "starting", "").ready
