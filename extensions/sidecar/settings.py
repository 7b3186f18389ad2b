"""The sidecar's settings (idpack.settings): where Keycloak is (the local stack's when
unset), its own client, the portal and relay it works with, and how it serves."""

from __future__ import annotations

from pydantic import model_validator

from idpack.keycloak.oidc import issuer
from idpack.settings import LOOPBACK_HOSTS, CommaSet, RealmServiceSettings, StoreLocation, setting
from idpack.store import REDIS_SCHEMES


class SidecarSettings(RealmServiceSettings):
    service = "sidecar"
    client_id: str = setting("idpack-sidecar", "IDPACK_SIDECAR_CLIENT_ID",
                             "The sidecar's own client (its service account acts in Keycloak)")
    client_secret: str = setting(..., "IDPACK_SIDECAR_CLIENT_SECRET",
                                 "That client's secret", secret=True)
    password_check_client_id: str = setting(
        "idpack-password-check", "IDPACK_PASSWORD_CHECK_CLIENT_ID",
        "The client changePassword checks a current password through")
    password_check_client_secret: str = setting("", "IDPACK_PASSWORD_CHECK_CLIENT_SECRET",
                                                "That client's secret", secret=True)
    audience: str = setting("idpack-sidecar", "IDPACK_SIDECAR_AUDIENCE",
                            "The audience a caller's token must carry")
    issuer: str = setting("", "IDPACK_SIDECAR_ISSUER", "The tokens' issuer, when "
                                 "Keycloak's public URL is not KEYCLOAK_URL")
    portal_url: str = setting("http://127.0.0.1:3000", "IDPACK_PORTAL_URL",
                              "The portal, where verifyUserInfo sends the user back")
    short_link_hosts: CommaSet = setting(LOOPBACK_HOSTS, "IDPACK_SHORT_LINK_HOSTS",
                                         "Hosts a short link may lead to, comma-separated")
    public_url: str = setting("", "IDPACK_SIDECAR_PUBLIC_URL", "The sidecar's "
                                     "URL in mailed links (default http://127.0.0.1:PORT)")
    store: StoreLocation = setting(
        ..., "IDPACK_STORE", "An SQLite file or a redis:// URL (default "
        "IDPACK_HOME/store.sqlite); shared with the relay",
        derived=lambda s: str(s["home"] / "store.sqlite"))
    user_index: StoreLocation = setting(
        ..., "IDPACK_SIDECAR_INDEX", "Where the user index lives: a redis:// URL (one for "
        "all replicas) or an SQLite file (one a replica); default: the store's Redis, else "
        "IDPACK_HOME/user-index-REALM.sqlite",
        derived=lambda s: s["store"] if s["store"].startswith(REDIS_SCHEMES)
        else str(s["home"] / f"user-index-{s['realm']}.sqlite"))
    smtp_host: str = setting("127.0.0.1", "IDPACK_SMTP_HOST", "The relay the sidecar mails "
                             "through")
    smtp_port: int = setting(2525, "IDPACK_SMTP_PORT", "The relay's port")
    mail_from: str = setting("MikroCloud <no-reply@mikrocloud.com>", "IDPACK_MAIL_FROM",
                             "The sender of the sidecar's own mails")
    trusted_proxies: int = setting(0, "IDPACK_SIDECAR_TRUSTED_PROXIES",
                                   "How many proxies in front set X-Forwarded-For")
    index_users: bool = setting(True, "IDPACK_SIDECAR_INDEX_USERS",
                                "Answer lookups from the user index (IDPACK_SIDECAR_INDEX)")
    backfill_uids: bool = setting(False, "IDPACK_SIDECAR_BACKFILL_UIDS",
                                  "One-off: give users from before uids theirs (and UCloud's "
                                  "attributes), as the index's check meets them")
    host: str = setting("127.0.0.1", "IDPACK_SIDECAR_HOST", "The address to listen on")
    port: int = setting(8000, "IDPACK_SIDECAR_PORT", "The port to listen on")
    workers: int = setting(2, "IDPACK_SIDECAR_WORKERS", "gunicorn worker processes")
    leeway_seconds: int = setting(30, "IDPACK_SIDECAR_LEEWAY_SECONDS",
                                  "Clock skew allowed on a token's expiry")
    max_body_bytes: int = setting(256 * 1024, "IDPACK_SIDECAR_MAX_BODY_BYTES",
                                  "The largest request body (413 above)")
    # Links Keycloak mails for createNewUser's users (set a password, verify, TOTP) live
    # as long as the realm's verification links (actionTokenGeneratedByUserLifespan).
    action_link_lifespan: int = setting(24 * 3600, "IDPACK_ACTION_LINK_LIFESPAN",
                                        "Seconds the links mailed to new users work")
    keycloak_timeout: float = setting(5.0, "IDPACK_KEYCLOAK_TIMEOUT",
                                      "Seconds a call to Keycloak may take (503 after)")

    @model_validator(mode="after")
    def _derived(self) -> SidecarSettings:
        self.portal_url = self.portal_url.rstrip("/")
        self.issuer = self.issuer or issuer(self.keycloak_url, self.realm)
        self.public_url = (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")
        return self
