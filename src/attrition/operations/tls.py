"""TLS files for the local balancer: a certificate chain and its key, given both or neither,
and how this process probes its own nginx over HTTPS."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from attrition.errors import AttritionError


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A PEM certificate chain and its private key, served by nginx."""

    cert: Path
    key: Path


def tls_files(cert: Path | None, key: Path | None) -> TlsFiles | None:
    """The TLS files given as options: both (HTTPS) or neither (plain HTTP)."""
    if (cert is None) != (key is None):
        raise AttritionError("tls: give both the certificate (--tls-cert) and key (--tls-key)")
    return TlsFiles(cert, key) if cert is not None and key is not None else None


def check_tls_files(tls: TlsFiles | None) -> None:
    """Refuse files that are not there before nginx is started with them."""
    for path in (tls.cert, tls.key) if tls else ():
        if not path.is_file():
            raise AttritionError(f"tls: {path} is not a file; give a PEM certificate and key")


def probe_context() -> ssl.SSLContext:
    """TLS for probing our own nginx on loopback: its certificate names the public host, not
    127.0.0.1, so it is not verified here (clients verify it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
