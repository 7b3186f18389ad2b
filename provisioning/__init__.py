"""Realm as code: the realm declared in realm-config/*.yaml, planned and applied through
Keycloak's Admin REST API (`idpack realm ...`)."""
