from __future__ import annotations

import base64
import json
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from idpack.store.short_links import NAMESPACE
from idpack.store.sqlite import SqliteStore
from mail.links import LinkRewriter


def action_link(exp: float) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": int(exp)}).encode()).rstrip(b"=")
    key = f"eyJhbGciOiJIUzUxMiJ9.{claims.decode()}.c2lnbmF0dXJl"
    return ("http://127.0.0.1:8080/realms/mikrocloud/login-actions/action-token?"
            f"key={key}&client_id=account-console&tab_id=AbC")


def verification_mail(link: str) -> bytes:
    message = EmailMessage()
    message["From"] = "MikroCloud <no-reply@mikrocloud.com>"
    message["To"] = "new.user@example.org"
    message["Subject"] = "Verify Email Address"
    message.set_content(f"Verify your address:\n\n{link}\n\nThe link expires in 24 hours.\n",
                        cte="quoted-printable")
    message.add_alternative(f'<p><a href="{link.replace("&", "&amp;")}">Verify</a></p>',
                            subtype="html", cte="quoted-printable")
    return message.as_bytes(policy=policy.SMTP)


def rewriter(tmp_path: Path) -> LinkRewriter:
    return LinkRewriter(SqliteStore(tmp_path / "store.sqlite"), "https://mkcld.link",
                        frozenset({"127.0.0.1"}))


def test_action_links_become_short_links_in_every_text_part(tmp_path: Path) -> None:
    exp = time.time() + 86400
    link = action_link(exp)
    shortener = rewriter(tmp_path)

    content, links = shortener.rewrite(verification_mail(link))

    [short] = links
    assert short.url.startswith("https://mkcld.link/s/")
    assert len(short.code) >= 16  # 96 random bits
    assert short.target == link
    assert abs(short.expires - int(exp)) < 1
    message = BytesParser(policy=policy.default).parsebytes(content)
    bodies = [part.get_content() for part in message.walk() if part.get_content_maintype()
              == "text"]
    assert all(short.url in body for body in bodies)
    assert not any("action-token" in body for body in bodies)
    assert b"\r\n" in content
    assert shortener.store.get(NAMESPACE, short.code) == {"target": link,
                                                          "expires": short.expires}


def test_links_to_other_hosts_and_other_paths_stay(tmp_path: Path) -> None:
    foreign = action_link(time.time() + 60).replace("127.0.0.1:8080", "evil.example")
    mail = verification_mail(foreign) + b""

    content, links = rewriter(tmp_path).rewrite(mail)

    assert links == []
    assert content == mail


def test_a_link_without_a_token_gets_the_default_lifetime(tmp_path: Path) -> None:
    link = "http://127.0.0.1:8080/realms/mikrocloud/login-actions/action-token?key=opaque"

    _, [short] = rewriter(tmp_path).rewrite(verification_mail(link))

    assert abs(short.expires - (time.time() + 86400)) < 5
