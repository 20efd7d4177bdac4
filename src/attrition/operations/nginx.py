"""nginx in front of local API replicas: its configuration, rendered from the compose stack's
templates (``deploy/nginx``), and how to run it unprivileged.

The templates keep least connections, passive health checks, retries on a dead replica and
the body size limit. Without TLS files the balancer speaks plain HTTP on the HTTP port (the
template's TLS server with its TLS lines removed); with them, HTTPS on the HTTPS port and a
redirect on the HTTP port, exactly as in compose. Rendering is pure; :func:`write_configs`
and :func:`check_configs` are the edge.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from attrition.errors import AttritionError
from attrition.operations.processes import LOOPBACK, log_tail
from attrition.operations.tls import TlsFiles

SITE_TEMPLATE = "attrition.conf.template"
MAIN_TEMPLATE = "nginx.conf.template"
_PLACEHOLDER = re.compile(r"\$\{(ATTRITION_[A-Z0-9_]+)\}")
_REPOSITORY = Path(__file__).resolve().parents[3]


class BalancerOptions(Protocol):
    """What the site configuration needs (a cluster's configuration has it)."""

    @property
    def http_port(self) -> int: ...
    @property
    def https_port(self) -> int: ...
    @property
    def tls(self) -> TlsFiles | None: ...
    @property
    def max_fails(self) -> int: ...
    @property
    def fail_timeout_s(self) -> int: ...


def find_templates(configured: Path | None = None) -> Path:
    """The folder holding the nginx templates: the option, the source checkout, or ./deploy."""
    candidates = [configured] if configured else []
    candidates += [_REPOSITORY / "deploy" / "nginx", Path.cwd() / "deploy" / "nginx"]
    for folder in candidates:
        if (folder / SITE_TEMPLATE).is_file() and (folder / MAIN_TEMPLATE).is_file():
            return folder
    raise AttritionError(
        f"templates_dir: no {SITE_TEMPLATE} and {MAIN_TEMPLATE} in "
        f"{', '.join(str(c) for c in candidates)}; run from the repository root or give the "
        "deploy/nginx folder"
    )


def find_nginx(configured: str | None = None) -> str:
    """The nginx binary (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(configured or "nginx", path=search)
    if found is None:
        raise AttritionError(
            f"nginx: {configured or 'nginx'} not found; install Debian's nginx "
            "(apt-get install nginx-light) or give its path"
        )
    return found


# --- rendering (pure) ------------------------------------------------------------------
def placeholders(template: str) -> set[str]:
    """The ``${ATTRITION_*}`` names a template uses."""
    return set(_PLACEHOLDER.findall(template))


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``${NAME}`` for the given names only, as ``envsubst '${NAME} ...'`` does.

    nginx's own ``$variables`` are left alone; a placeholder without a value is an error.
    """
    missing = sorted(placeholders(template) - set(values))
    if missing:
        raise AttritionError(f"nginx template: no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def upstream_servers(ports: list[int], max_fails: int, fail_timeout_s: int) -> str:
    """One ``server`` line per replica, with its passive health-check limits."""
    lines = [
        f"server {LOOPBACK}:{port} max_fails={max_fails} fail_timeout={fail_timeout_s}s;"
        for port in ports
    ]
    return "\n    ".join(lines)


def site_values(
    options: BalancerOptions, ports: list[int], runtime: Path, max_body_bytes: int
) -> dict[str, str]:
    """Values for ``attrition.conf.template``.

    Without TLS the HTTPS server becomes the plain one (see :func:`plain_http_site`), so its
    certificate lines are placeholders that never reach nginx.
    """
    tls = options.tls
    return {
        "ATTRITION_UPSTREAM_SERVERS": upstream_servers(
            ports, options.max_fails, options.fail_timeout_s
        ),
        "ATTRITION_HTTP_PORT": str(options.http_port),
        "ATTRITION_HTTPS_PORT": str(options.https_port if tls else options.http_port),
        "ATTRITION_PUBLIC_HTTPS_PORT": str(options.https_port),
        "ATTRITION_TLS_CERT": str(tls.cert.resolve()) if tls else "unused",
        "ATTRITION_TLS_KEY": str(tls.key.resolve()) if tls else "unused",
        "ATTRITION_MAX_BODY_SIZE": str(max_body_bytes),
        "ATTRITION_ACCESS_LOG": str(runtime / "access.log"),
    }


def _server_blocks(site: str) -> list[str]:
    """The top-level ``server { ... }`` blocks (the template opens and closes them at column
    0, with everything inside indented)."""
    return re.findall(r"^server \{\n.*?^\}\n", site, flags=re.MULTILINE | re.DOTALL)


def _one(blocks: list[str], marker: str) -> str:
    found = [block for block in blocks if marker in block]
    if len(found) != 1:
        raise AttritionError(
            f"nginx template: expected one server block with {marker!r}, found {len(found)}; "
            "plain-HTTP mode cannot adapt it (give TLS files instead)"
        )
    return found[0]


def plain_http_site(site: str, http_port: int) -> str:
    """A rendered site without TLS: the proxying server listens on ``http_port`` in plain
    HTTP (with the balancer's ``/nginx-health``), the HTTP-to-HTTPS redirect server is gone.
    """
    blocks = _server_blocks(site)
    redirect, proxy = _one(blocks, "return 308"), _one(blocks, " ssl default_server;")
    health = re.search(r"^    location = /nginx-health \{\n.*?^    \}\n", redirect, re.M | re.S)
    if health is None:
        raise AttritionError("nginx template: the redirect server lost its /nginx-health")
    kept = [
        line
        for line in proxy.splitlines(keepends=True)
        if not re.match(r"\s*(ssl_|add_header Strict-Transport-Security)", line)
    ]
    plain = re.sub(
        r"^    listen \S+ ssl default_server;\n",
        f"    listen {http_port} default_server;\n" + health.group(0),
        "".join(kept),
        flags=re.MULTILINE,
    )
    return site.replace(redirect, "").replace(proxy, plain)


def render_site(
    template: str, options: BalancerOptions, ports: list[int], runtime: Path, max_body_bytes: int
) -> str:
    """``attrition.conf`` for these replica ports, with or without TLS."""
    site = render_template(template, site_values(options, ports, runtime, max_body_bytes))
    return site if options.tls else plain_http_site(site, options.http_port)


def render_main(template: str, runtime: Path, site_conf: Path) -> str:
    """``nginx.conf`` keeping the pid file, logs and temp files under ``runtime``."""
    return render_template(
        template,
        {"ATTRITION_NGINX_RUNTIME_DIR": str(runtime), "ATTRITION_NGINX_SITE_CONF": str(site_conf)},
    )


def nginx_command(nginx: str, runtime: Path, conf: Path, *, test: bool = False) -> list[str]:
    """nginx in the foreground (so this process owns it), prefix and logs under ``runtime``."""
    command = [nginx, "-e", str(runtime / "error.log"), "-p", str(runtime), "-c", str(conf)]
    return [*command, "-t", "-q"] if test else [*command, "-g", "daemon off;"]


# --- files and checks ------------------------------------------------------------------
def write_configs(
    templates: Path,
    runtime: Path,
    options: BalancerOptions,
    ports: list[int],
    max_body_bytes: int,
) -> Path:
    """Render both templates into ``runtime``; returns the main configuration's path."""
    site_conf, main_conf = runtime / "attrition.conf", runtime / "nginx.conf"
    site = (templates / SITE_TEMPLATE).read_text()
    site_conf.write_text(render_site(site, options, ports, runtime, max_body_bytes))
    main_conf.write_text(render_main((templates / MAIN_TEMPLATE).read_text(), runtime, site_conf))
    return main_conf


def check_configs(nginx: str, runtime: Path, main_conf: Path) -> None:
    """``nginx -t`` on the rendered configuration; its complaint becomes a user error."""
    done = subprocess.run(
        nginx_command(nginx, runtime, main_conf, test=True),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr.strip() or log_tail(runtime / "error.log"))[-1500:]
        raise AttritionError(f"nginx rejected the rendered configuration {main_conf}:\n{detail}")
