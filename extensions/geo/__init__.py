"""Country and time zone from the registration IP: a worker that follows Keycloak's
REGISTER events and fills the users' empty `country` and `timezone` attributes from a
MaxMind database (`idpack geo-worker`)."""
