"""An authenticator app for the tests: Keycloak keeps a TOTP secret as text (its forms
carry it as `totpSecret`), while apps take the base32 of its bytes."""

from __future__ import annotations

import base64

import pyotp


def authenticator(keycloak_secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(base64.b32encode(keycloak_secret.encode()).decode())
