"""The sidecar: UCloud's user RPCs on top of Keycloak (`idpack sidecar`)."""
