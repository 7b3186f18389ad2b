"""End-to-end tests of the accounts the seeds create other than by self-registration:
PASSWORD users made by an ADMIN or a service (TOTP at first login), UCloud roles through
the running sidecar, and the Google and Microsoft providers."""
