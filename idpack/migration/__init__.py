"""Moving an existing installation's users into Keycloak (UCloud's, for now)."""
