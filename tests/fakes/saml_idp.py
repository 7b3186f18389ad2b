"""A local SAML 2.0 identity provider standing in for WAYF in the tests: pysaml2's IdP
(`saml2.server.Server`, signing with Debian's xmlsec1) behind a small Flask app, served
by werkzeug in a thread on a free loopback port.

It publishes its metadata (an SSO endpoint with the HTTP-Redirect and HTTP-POST
bindings, a signing certificate made for the run), takes a service provider's
AuthnRequest, shows a login page for its one test user, and answers through the
HTTP-POST binding with a signed Response holding a signed Assertion: a persistent NameID
and the user's attributes under WAYF's urn:oid names, as strings (WAYF sends
eduPersonTargetedID as a plain string, not as a NameID inside the attribute).

    with saml_identity_provider(folder) as idp:
        idp.metadata_xml()                      # for the service provider
        idp.trust_service_provider(sp_metadata) # the SP's own metadata, before a login

As WAYF does, it also publishes its metadata signed, at `signed_metadata_url`, by a
metadata-signing key of its own (`metadata_signer_fingerprint` is what a realm file
pins), valid for a week; `rotate_signing_key()` replaces the key its Responses are
signed with, and the metadata published from then on names the new certificate.
"""

from __future__ import annotations

import datetime
import html
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree  # type: ignore[import-untyped]
from flask import Flask, Response, request
from lxml import etree
from saml2 import (  # type: ignore[import-untyped]
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
)
from saml2.attribute_converter import (  # type: ignore[import-untyped]
    AttributeConverter,
    do_ava,
)
from saml2.config import IdPConfig  # type: ignore[import-untyped]
from saml2.metadata import create_metadata_string  # type: ignore[import-untyped]
from saml2.saml import (  # type: ignore[import-untyped]
    AUTHN_PASSWORD_PROTECTED,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_PERSISTENT,
    NameID,
)
from saml2.server import Server  # type: ignore[import-untyped]
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256  # type: ignore[import-untyped]
from signxml.signer import XMLSigner
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.wrappers import Response as PlainResponse

from idpack.processes import free_port

SAML_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
# WAYF's attributes by their names on the wire (urn:oid, NameFormat uri).
EDU_PERSON_TARGETED_ID = "urn:oid:1.3.6.1.4.1.5923.1.1.1.10"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
GN = "urn:oid:2.5.4.42"
SN = "urn:oid:2.5.4.4"
SCHAC_HOME_ORGANIZATION = "urn:oid:1.3.6.1.4.1.25178.1.2.9"
WAYF_ATTRIBUTES = {"eduPersonTargetedID": EDU_PERSON_TARGETED_ID, "mail": MAIL, "gn": GN,
                   "sn": SN, "schacHomeOrganization": SCHAC_HOME_ORGANIZATION}


@dataclass(frozen=True)
class IdpUser:
    """The one user the IdP knows; `attributes` by WAYF's friendly names."""

    username: str
    password: str
    targeted_id: str  # the persistent NameID and eduPersonTargetedID
    mail: str
    gn: str
    sn: str
    schac_home_organization: str

    def attributes(self) -> dict[str, list[str]]:
        return {"eduPersonTargetedID": [self.targeted_id], "mail": [self.mail],
                "gn": [self.gn], "sn": [self.sn],
                "schacHomeOrganization": [self.schac_home_organization]}


def make_test_user(**overrides: str) -> IdpUser:
    tag = secrets.token_hex(4)
    values = {"username": "wayf-user", "password": f"pw-{secrets.token_hex(6)}",
              "targeted_id": f"WAYF-DK-{secrets.token_hex(20)}",
              "mail": f"freja-{tag}@example.org", "gn": "Freja", "sn": "Sørensen",
              "schac_home_organization": "ku.dk", **overrides}
    return IdpUser(**values)


class _WayfNames(AttributeConverter):  # type: ignore[misc]
    """WAYF's friendly names -> urn:oid names with NameFormat uri; every value a string
    (pysaml2's own maps would turn eduPersonTargetedID into a NameID element)."""

    def __init__(self) -> None:
        super().__init__(NAME_FORMAT_URI)
        self._to = {friendly.lower(): name for friendly, name in WAYF_ATTRIBUTES.items()}
        self._fro = {name: friendly for friendly, name in WAYF_ATTRIBUTES.items()}

    def to_eptid_value(self, values: Any) -> Any:
        return do_ava(values)


def _signing_key(folder: Path, common_name: str, prefix: str = "idp",
                 valid_days: int = 30) -> tuple[Path, Path]:
    """A fresh RSA key and a self-signed certificate for it, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=60))
                   .not_valid_after(now + datetime.timedelta(days=valid_days))
                   .sign(key, hashes.SHA256()))
    key_file, cert_file = folder / f"{prefix}-key.pem", folder / f"{prefix}-cert.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WAYF test IdP: log in</title></head>
<body>
<h1>WAYF test identity provider</h1>
<p>Logging in to {sp}</p>
{error}
<form method="post" action="{action}">
  <input type="hidden" name="request" value="{key}">
  <label>Username <input name="username" id="username" autocomplete="off"></label>
  <label>Password <input name="password" id="password" type="password"></label>
  <button type="submit" id="login">Log in</button>
</form>
</body></html>
"""


@dataclass
class _Pending:
    """An AuthnRequest waiting for its user to log in."""

    response_args: dict[str, Any]
    relay_state: str


def sign_metadata(xml: str, key_file: Path, cert_file: Path,
                  valid_for: datetime.timedelta = datetime.timedelta(days=7)) -> bytes:
    """`xml` as a federation publishes it: an ID and validUntil on the root, and an
    enveloped RSA-SHA256 signature over it carrying the signing certificate."""
    root = etree.fromstring(xml.encode())
    root.set("ID", f"_{secrets.token_hex(16)}")
    until = datetime.datetime.now(datetime.UTC) + valid_for
    root.set("validUntil", until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    # signxml fills in a placeholder where one is: here where SAML's schema puts the
    # signature, the root's first child.
    root.insert(0, etree.Element("{http://www.w3.org/2000/09/xmldsig#}Signature",
                                 Id="placeholder"))
    signed = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        root, key=key_file.read_bytes(), cert=cert_file.read_text(),
        reference_uri=root.get("ID"))
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


@dataclass
class SamlIdentityProvider:
    base_url: str
    user: IdpUser
    server: Any  # saml2.server.Server
    folder: Path
    xmlsec: str
    metadata_signer: tuple[Path, Path]  # key and certificate that sign the metadata
    # What /metadata/signed serves: None for freshly signed metadata, else these bytes
    # (a test's tampered, expired or unsigned document).
    published: bytes | None = None
    trusted: list[str] = field(default_factory=list)  # SP metadata loaded
    key_generation: int = 1
    pending: dict[str, _Pending] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # the SAML Responses sent, as XML
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/idp"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/sso"

    @property
    def signed_metadata_url(self) -> str:
        return f"{self.base_url}/metadata/signed"

    @property
    def metadata_signer_fingerprint(self) -> str:
        """`sha256:AB:CD:...` of the metadata-signing certificate, as a realm file pins it."""
        certificate = x509.load_pem_x509_certificate(self.metadata_signer[1].read_bytes())
        return "sha256:" + certificate.fingerprint(hashes.SHA256()).hex(":").upper()

    def metadata_xml(self) -> str:
        xml: str | bytes = create_metadata_string(None, config=self.server.config, sign=False)
        return xml.decode() if isinstance(xml, bytes) else xml

    def signed_metadata(self, valid_for: datetime.timedelta = datetime.timedelta(days=7),
                        ) -> bytes:
        return sign_metadata(self.metadata_xml(), *self.metadata_signer, valid_for=valid_for)

    def signing_certificate(self) -> str:
        """The base64 DER of the certificate Responses are signed with now."""
        pem = Path(self.server.config.cert_file).read_text()
        return "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)

    def rotate_signing_key(self) -> None:
        """A new key signs every Response from now on; the old one is gone."""
        with self.lock:
            self.key_generation += 1
            key_file, cert_file = _signing_key(self.folder, f"wayf-test-idp-{self.key_generation}",
                                               prefix=f"idp-{self.key_generation}")
            self.server = _server(self.base_url, key_file, cert_file, self.xmlsec)
            for metadata in self.trusted:
                self.server.metadata.load("inline", metadata)

    def released_attributes(self) -> list[str]:
        """The attribute names in the last Response sent (none before any)."""
        if not self.issued:
            return []
        root = ElementTree.fromstring(self.issued[-1].encode())
        return [str(a.get("Name")) for a in root.iter(f"{{{SAML_ASSERTION}}}Attribute")]

    def trust_service_provider(self, metadata_xml: str) -> None:
        """Load a service provider's metadata (its entity ID and assertion consumer
        service); AuthnRequests from service providers not loaded are refused."""
        with self.lock:
            self.server.metadata.load("inline", metadata_xml)
            self.trusted.append(metadata_xml)

    # The web side

    def app(self) -> Flask:
        app = Flask("tests.fakes.saml_idp")

        @app.get("/metadata")
        def metadata() -> Response:
            return Response(self.metadata_xml(), mimetype="application/samlmetadata+xml")

        @app.get("/metadata/signed")
        def signed_metadata() -> Response:
            body = self.published if self.published is not None else self.signed_metadata()
            return Response(body, mimetype="application/samlmetadata+xml")

        @app.route("/sso", methods=["GET", "POST"])
        def sso() -> Response:
            values = request.args if request.method == "GET" else request.form
            binding = BINDING_HTTP_REDIRECT if request.method == "GET" else BINDING_HTTP_POST
            saml_request = values.get("SAMLRequest")
            if not saml_request:
                return Response("SAMLRequest is missing", status=400)
            with self.lock:
                try:
                    parsed = self.server.parse_authn_request(saml_request, binding)
                    args = self.server.response_args(parsed.message, [BINDING_HTTP_POST])
                except Exception as exc:  # pysaml2 raises many kinds; the SP sees why
                    return Response(f"bad AuthnRequest: {exc!r}", status=400)
            key = secrets.token_urlsafe(16)
            self.pending[key] = _Pending(args, values.get("RelayState", ""))
            return self._login_page(key, args["sp_entity_id"])

        @app.post("/login")
        def login() -> Response:
            key = request.form.get("request", "")
            pending = self.pending.get(key)
            if pending is None:
                return Response("unknown or used login request", status=400)
            if (request.form.get("username"), request.form.get("password")) != \
                    (self.user.username, self.user.password):
                return self._login_page(key, pending.response_args["sp_entity_id"],
                                        error="Wrong username or password.")
            del self.pending[key]
            return self._answer(pending)

        return app

    def _login_page(self, key: str, sp: str, error: str = "") -> Response:
        page = LOGIN_PAGE.format(sp=html.escape(sp), key=html.escape(key),
                                 action=f"{self.base_url}/login",
                                 error=f'<p class="error">{html.escape(error)}</p>' if error
                                 else "")
        return Response(page, mimetype="text/html", status=401 if error else 200)

    def _answer(self, pending: _Pending) -> Response:
        args = dict(pending.response_args)
        binding = args.pop("binding")
        name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=self.user.targeted_id,
                         name_qualifier=self.entity_id, sp_name_qualifier=args["sp_entity_id"])
        with self.lock:
            response = self.server.create_authn_response(
                self.user.attributes(), userid=self.user.username, name_id=name_id,
                authn={"class_ref": AUTHN_PASSWORD_PROTECTED,
                       "authn_auth": self.entity_id},
                sign_response=True, sign_assertion=True, sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256, **args)
            self.issued.append(str(response))
            http = self.server.apply_binding(binding, str(response), args["destination"],
                                             pending.relay_state, response=True)
        return Response(http["data"], status=int(http.get("status", 200)),
                        headers=list(http.get("headers", [])))


# Assertions live 5 minutes and name attributes in the uri NameFormat. What is released
# is what the SP's metadata requests (its RequestedAttribute elements, matched by Name
# and NameFormat), as WAYF releases what an SP registered: Keycloak's SP descriptor lists
# the mappers' attributes, in the NameFormat of each mapper's `attribute.name.format`
# (Keycloak's default is basic, which no uri-named attribute matches).
POLICY = {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                      "name_form": NAME_FORMAT_URI}}


def _config(base_url: str, key_file: Path, cert_file: Path, xmlsec: str) -> Any:
    sso = f"{base_url}/sso"
    config = IdPConfig()
    config.load({
        "entityid": f"{base_url}/idp",
        "name": "WAYF test IdP",
        "service": {"idp": {
            "name": "WAYF test IdP",
            "endpoints": {"single_sign_on_service": [(sso, BINDING_HTTP_REDIRECT),
                                                     (sso, BINDING_HTTP_POST)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "want_authn_requests_signed": False,
            "sign_response": True,
            "sign_assertion": True,
            "policy": POLICY,
        }},
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "xmlsec_binary": xmlsec,
        "metadata": {},
    })
    return config


@contextmanager
def saml_identity_provider(folder: Path, user: IdpUser | None = None, *,
                           host: str = "127.0.0.1") -> Iterator[SamlIdentityProvider]:
    """The IdP on a free port of `host` until the block ends; its key and certificate
    in `folder`. `user` is the one user it knows (a new one by default)."""
    xmlsec = shutil.which("xmlsec1")
    if not xmlsec:
        raise RuntimeError("xmlsec1 is not installed: `apt-get install xmlsec1` (pysaml2 "
                           "signs with it)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port(host)
    base_url = f"http://{host}:{port}/wayf-test"
    key_file, cert_file = _signing_key(folder, f"{host}-wayf-test-idp")
    # The metadata-signing certificate has expired, as federations' often have: it is
    # a pinned trust anchor, and its dates must not matter.
    metadata_signer = _signing_key(folder, "wayf-test metadata signing", prefix="metadata",
                                   valid_days=-1)
    idp = SamlIdentityProvider(base_url, user or make_test_user(),
                               _server(base_url, key_file, cert_file, xmlsec), folder,
                               xmlsec, metadata_signer)
    http = make_server(host, port, _mounted(idp.app(), "/wayf-test"), threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="saml-idp", daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        http.shutdown()
        thread.join(10)


def _server(base_url: str, key_file: Path, cert_file: Path, xmlsec: str) -> Any:
    server = Server(config=_config(base_url, key_file, cert_file, xmlsec))
    for context in ("", "idp"):  # what builds the assertion, and what filters its attributes
        server.config.setattr(context, "attribute_converters", [_WayfNames()])
    return server


def _mounted(app: Flask, prefix: str) -> DispatcherMiddleware:
    """The app under a path prefix, as WAYF's endpoints live under a path."""
    return DispatcherMiddleware(PlainResponse("not found", status=404), {prefix: app})
