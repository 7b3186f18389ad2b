"""Authentication flows, their executions and authenticator configs."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q


class FlowsApi(RealmEndpoint):
    def flows(self) -> list[Json]:
        """The top-level flows (id, alias, builtIn, ...)."""
        flows: list[Json] = self._send("GET", "/authentication/flows")
        return flows

    def create_flow(self, representation: Json) -> str:
        return self.client.create(f"{self.base}/authentication/flows", representation)

    def update_flow(self, flow_id: str, representation: Json) -> None:
        self._send("PUT", f"/authentication/flows/{_q(flow_id)}", representation)

    def delete_flow(self, flow_id: str) -> None:
        self._send("DELETE", f"/authentication/flows/{_q(flow_id)}")

    def flow_executions(self, alias: str) -> list[Json]:
        """The flow's executions, sub-flows' ones included (`level` > 0), in order."""
        executions: list[Json] = self._send("GET",
                                            f"/authentication/flows/{_q(alias)}/executions")
        return executions

    def add_execution(self, flow_alias: str, provider: str) -> str:
        """A new step at the end of the flow (DISABLED until told otherwise); its id."""
        return self.client.create(
            f"{self.base}/authentication/flows/{_q(flow_alias)}/executions/execution",
            {"provider": provider})

    def add_subflow(self, flow_alias: str, representation: Json) -> str:
        """A new sub-flow at the end of the flow (alias, type, provider, description);
        the sub-flow's id (not its execution's)."""
        return self.client.create(
            f"{self.base}/authentication/flows/{_q(flow_alias)}/executions/flow",
            representation)

    def update_execution(self, flow_alias: str, representation: Json) -> None:
        """Requirement and priority of one execution, as flow_executions() shows it."""
        self._send("PUT", f"/authentication/flows/{_q(flow_alias)}/executions", representation)

    def delete_execution(self, execution_id: str) -> None:
        self._send("DELETE", f"/authentication/executions/{_q(execution_id)}")

    def authenticator_config(self, config_id: str) -> Json:
        config: Json = self._send("GET", f"/authentication/config/{_q(config_id)}")
        return config

    def create_authenticator_config(self, execution_id: str, representation: Json) -> None:
        self._send("POST", f"/authentication/executions/{_q(execution_id)}/config",
                   representation)

    def update_authenticator_config(self, config_id: str, representation: Json) -> None:
        self._send("PUT", f"/authentication/config/{_q(config_id)}", representation)
