"""The Admin REST API of one realm, one module per area (as Terraform's Keycloak
provider splits its client), composed into `RealmAdmin` (idpack.keycloak.realm_admin).
Every Keycloak admin URL idpack needs is spelled in these modules and nowhere else."""
