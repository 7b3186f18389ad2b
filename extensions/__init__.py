"""What idpack adds around Keycloak at run time: the sidecar service and the themes."""
