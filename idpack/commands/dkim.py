"""`idpack dkim keygen|dns`: the relay's DKIM keys, and the DNS records for them."""

from __future__ import annotations

import click

from mail.settings import RelaySettings


@click.group()
def dkim() -> None:
    """DKIM keys for the relay: one RSA-2048 and one Ed25519 key per selector.

    \b
      idpack dkim keygen --selector mc2026     # writes .idpack/dkim/mc2026-*.{pem,key}
      idpack dkim dns                          # the TXT records to publish
                                               # (the relay's selector, or --selector)
    Keys live in the relay's keys folder (default .idpack/dkim), mode 0600.
    """


@dkim.command()
@click.option("--selector", required=True, help="Selector name, e.g. mc2026 (a date is usual).")
@click.option("--overwrite", is_flag=True, help="Replace existing keys of this selector.")
def keygen(selector: str, overwrite: bool) -> None:
    """Write a new RSA-2048 and Ed25519 key pair for SELECTOR."""
    from mail.dkim_keys import generate, key_paths

    keys_dir = RelaySettings.from_env().dkim_keys_dir
    generate(keys_dir, selector, overwrite=overwrite)
    for path in key_paths(keys_dir, selector):
        click.echo(f"wrote {path} (mode 0600)")
    click.echo(f"Publish the records of `idpack dkim dns --selector {selector}` before the "
               "relay signs with them.")


@dkim.command()
@click.option("--selector", help="Selector name given to keygen (default: the relay's "
                                 "configured one, or else the only one with keys).")
@click.option("--domain", help="The signing domain, d= (default: the relay's first "
                               "signing domain, mikrocloud.com).")
def dns(selector: str | None, domain: str | None) -> None:
    """Print the DNS TXT records that publish the relay's public keys (zone-file lines),
    ready to paste into the signing domain's zone."""
    from mail.dkim_keys import chosen_selector, load

    settings = RelaySettings.from_env()
    selector = selector or chosen_selector(settings.dkim_keys_dir, settings.dkim_selector)
    domain = domain or sorted(settings.domains)[0]
    click.echo(f"; DKIM keys of selector {selector} for {domain} (RSA-2048 and Ed25519)")
    for name, value in load(settings.dkim_keys_dir, selector).txt_records(domain).items():
        chunks = " ".join(f'"{value[i:i + 255]}"' for i in range(0, len(value), 255))
        click.echo(f"{name}. IN TXT ( {chunks} )")
