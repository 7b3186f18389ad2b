"""The DKIM mail relay Keycloak sends through (`idpack relay`, `idpack dkim ...`)."""
