"""idpack: an identity extension pack for Keycloak."""

__version__ = "0.1.0"
