"""A service's token verified moments ago is not verified again (a lookup in bulk pays
the signature once in 5 s), but its expiry always is; a person's token every time."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from extensions.sidecar.tokens import InvalidToken, TokenVerifier

ISSUER, AUDIENCE = "http://keycloak.test/realms/r", "idpack-sidecar"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})


def token(*, service: bool, expires_in: int = 300) -> str:
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "s", "typ": "Bearer",
                              "exp": int(time.time()) + expires_in, "azp": "svc"}
    if service:
        claims["client_id"] = "svc"
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = jwt.decode

    def counted(value: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)  # the module tokens.py verifies with
    return seen


def verifier(remember_seconds: float = 5.0) -> TokenVerifier:
    return TokenVerifier("http://keycloak.test/jwks", ISSUER, AUDIENCE, leeway=0,
                         fetch=lambda _: {"keys": [KEY.as_dict(private=False)]},
                         remember_seconds=remember_seconds)


def test_a_service_token_is_verified_once_in_the_window(decodes: list[str]) -> None:
    check, service = verifier(), token(service=True)
    for _ in range(5):
        assert check.verify(service).is_service_account
    assert len(decodes) == 1


def test_past_the_window_it_is_verified_again(decodes: list[str]) -> None:
    check, service = verifier(remember_seconds=0.05), token(service=True)
    check.verify(service)
    time.sleep(0.1)
    check.verify(service)
    assert len(decodes) == 2


def test_a_persons_token_is_verified_every_time(decodes: list[str]) -> None:
    check, person = verifier(), token(service=False)
    check.verify(person)
    check.verify(person)
    assert len(decodes) == 2


def test_an_expired_token_is_refused_even_if_remembered() -> None:
    check, service = verifier(), token(service=True, expires_in=1)
    check.verify(service)
    time.sleep(1.1)
    with pytest.raises(InvalidToken):
        check.verify(service)


def test_a_changed_token_is_never_taken_for_a_remembered_one(decodes: list[str]) -> None:
    check, service = verifier(), token(service=True)
    check.verify(service)
    forged = service[:-4] + ("AAAA" if not service.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidToken):
        check.verify(forged)
