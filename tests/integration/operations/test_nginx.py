"""The balancer's nginx configuration: rendered as the documented envsubst does, accepted by
Debian's nginx with and without TLS, and refused clearly when it cannot be rendered."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from attrition.errors import AttritionError
from attrition.operations import nginx
from attrition.operations.cluster import ClusterConfig
from attrition.operations.tls import TlsFiles

pytestmark = pytest.mark.integration

TEMPLATES = nginx.find_templates()
SITE = (TEMPLATES / nginx.SITE_TEMPLATE).read_text()


def render(folder: Path, config: ClusterConfig, ports: list[int]) -> Path:
    return nginx.write_configs(TEMPLATES, folder, config, ports, 2_000_000)


def nginx_test(require_tool: Callable[[str], str], folder: Path, conf: Path) -> None:
    command = nginx.nginx_command(require_tool("nginx"), folder, conf, test=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def test_python_rendering_matches_envsubst(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    """The same substitution as the documented `envsubst "$vars"` (only ATTRITION_ names)."""
    config = ClusterConfig(tls=TlsFiles(tmp_path / "tls.crt", tmp_path / "tls.key"))
    values = nginx.site_values(config, [18001, 18002], tmp_path, 2_000_000)
    names = " ".join(f"${{{name}}}" for name in values)
    done = subprocess.run(
        [require_tool("envsubst"), names],
        input=SITE,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), **values},
    )
    assert nginx.render_template(SITE, values) == done.stdout
    assert nginx.placeholders(SITE) == set(values)


def test_tls_config_keeps_the_template_and_passes_nginx_check(
    tmp_path: Path, require_tool: Callable[[str], str], support: ModuleType
) -> None:
    cert, key = support.make_certificate(tmp_path / "certs")
    config = ClusterConfig(http_port=18080, https_port=18443, tls=TlsFiles(cert, key))
    conf = render(tmp_path, config, [18001, 18002])
    site = (tmp_path / "attrition.conf").read_text()
    assert "listen 18443 ssl default_server;" in site
    assert "return 308 https://$host:18443$request_uri;" in site
    assert "server 127.0.0.1:18002 max_fails=3 fail_timeout=10s;" in site
    assert "least_conn;" in site and "non_idempotent;" in site
    assert "client_max_body_size 2000000;" in site
    nginx_test(require_tool, tmp_path, conf)
    nginx.check_configs(require_tool("nginx"), tmp_path, conf)


def test_plain_http_config_has_no_tls_and_keeps_the_proxy_rules(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    conf = render(tmp_path, ClusterConfig(http_port=18080), [18001])
    site = (tmp_path / "attrition.conf").read_text()
    assert "ssl" not in site and "308" not in site and "Strict-Transport-Security" not in site
    assert site.count("server {") == 1
    assert "listen 18080 default_server;" in site
    kept = (
        "location = /nginx-health",
        "location /v1/monitoring/",
        "location = /metrics",
        "proxy_next_upstream_tries 3;",
        "proxy_set_header X-Request-Id $request_id;",
    )
    assert [line for line in kept if line not in site] == []
    nginx_test(require_tool, tmp_path, conf)


def test_a_configuration_nginx_rejects_is_a_clear_error(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("events {}\nhttp { no_such_directive on; }\n")
    with pytest.raises(AttritionError, match=r"nginx rejected (?s:.*)no_such_directive"):
        nginx.check_configs(require_tool("nginx"), tmp_path, conf)


def test_a_template_missing_a_value_is_refused() -> None:
    with pytest.raises(AttritionError, match="ATTRITION_HTTP_PORT"):
        nginx.render_template("listen ${ATTRITION_HTTP_PORT};", {})


def test_plain_mode_refuses_a_template_of_another_shape() -> None:
    with pytest.raises(AttritionError, match="return 308"):
        nginx.plain_http_site("server {\n    listen 1 ssl default_server;\n}\n", 8080)


def test_missing_nginx_is_a_clear_error() -> None:
    with pytest.raises(AttritionError, match="nginx-light"):
        nginx.find_nginx("no-such-nginx-binary")


def test_templates_come_from_the_given_folder_else_the_checkout(tmp_path: Path) -> None:
    for name in (nginx.SITE_TEMPLATE, nginx.MAIN_TEMPLATE):
        (tmp_path / name).write_text((TEMPLATES / name).read_text())
    assert nginx.find_templates(tmp_path) == tmp_path
    assert nginx.find_templates(tmp_path / "nowhere") == TEMPLATES
