"""TLS files for the local balancer: both or neither, and files that exist."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from attrition.errors import AttritionError
from attrition.operations.tls import TlsFiles, check_tls_files, probe_context, tls_files


def test_tls_needs_both_files_or_neither() -> None:
    assert tls_files(None, None) is None
    assert tls_files(Path("c.pem"), Path("k.pem")) == TlsFiles(Path("c.pem"), Path("k.pem"))
    for cert, key in ((Path("c.pem"), None), (None, Path("k.pem"))):
        with pytest.raises(AttritionError, match=r"--tls-cert\) and key \(--tls-key"):
            tls_files(cert, key)


def test_missing_files_are_refused_by_name(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_text("cert")
    check_tls_files(None)
    with pytest.raises(AttritionError, match=f"^tls: {key} is not a file"):
        check_tls_files(TlsFiles(cert, key))
    key.write_text("key")
    check_tls_files(TlsFiles(cert, key))


def test_probing_our_own_nginx_does_not_verify_its_public_name() -> None:
    context = probe_context()
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
