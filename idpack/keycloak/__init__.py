"""Everything that touches Keycloak: the server harness and the thin admin client."""
