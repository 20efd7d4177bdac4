"""`attrition serve`, `predict`, `ui`, `up`, `cluster`: the API, batch scoring, the dashboard
and API replicas behind a local nginx."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from attrition.cli._common import JsonOption, console, emit, err_console, get_settings
from attrition.errors import AttritionError

if TYPE_CHECKING:
    from attrition.operations.cluster import LocalCluster


def register(app: typer.Typer) -> None:
    """Attach the serving commands to the root app."""
    app.command()(serve)
    app.command()(predict)
    app.command()(ui)
    app.command()(up)
    app.command()(cluster)


def _check_migrated(url: str) -> None:
    from attrition.db.migrate import current_revision

    try:
        revision = current_revision(url)
    except Exception:
        return  # database unreachable: serve anyway, predictions go to the spool
    if revision is None:
        raise AttritionError("database is not migrated: run `attrition db upgrade` first")


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
) -> None:
    """Run the prediction API."""
    import uvicorn

    from attrition.serving.platform.transport import PROTOCOL

    settings = get_settings()
    _check_migrated(settings.database_url)
    if workers > 1:  # metrics of all workers are summed by whichever answers /metrics
        metrics_dir = settings.var_dir.resolve() / "prometheus" / str(port)
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run(
        "attrition.serving.app:serve_factory",
        factory=True,
        http=PROTOCOL,  # one socket write per response: see serving/platform/transport.py
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,  # no "server: uvicorn" (docs/security.md)
        timeout_graceful_shutdown=10,
    )


def predict(
    file: Path = typer.Argument(..., help="CSV of employees to score."),
    out: Path = typer.Option(..., "--out", help="CSV to write the scores to."),
    top: int | None = typer.Option(
        None, "--top", min=1, help="Write the ranked action list of the N highest risks."
    ),
    capacity: str | None = typer.Option(
        None,
        "--capacity",
        help="Write the ranked action list for HR's capacity: a share (0.2), a percentage "
        "(20%) or a number of people (40) of the scored employees.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Score a CSV offline with the champion (invalid rows are counted, not scored); with
    --top or --capacity, write the ranked action list (risk, top factors, best lever)."""
    from attrition.capacity import Capacity
    from attrition.serving.inference.csv_scoring import score_csv

    if top is not None and capacity is not None:
        raise typer.BadParameter("give --top or --capacity, not both", param_hint="--top")
    chosen = Capacity(count=top) if top is not None else None
    if capacity is not None:
        try:
            chosen = Capacity.parse(capacity)
        except AttritionError as error:
            raise typer.BadParameter(str(error), param_hint="--capacity") from None
    result = score_csv(file, out, get_settings(), capacity=chosen)
    listed = (
        f" Wrote the action list of the {result.rows_listed} highest risks to {result.out}."
        if result.rows_listed is not None
        else f" Wrote {result.out}."
    )
    emit(
        result.as_dict(),
        as_json,
        lambda: console.print(
            f"Scored [bold]{result.rows_scored}[/] of {result.rows_read} rows with model "
            f"v{result.model_version} ({result.model_source}); {result.rows_at_risk} at risk, "
            f"{result.rows_rejected} rejected.{listed}"
        ),
    )


def ui(
    port: int = typer.Option(8501, "--port", min=1, max=65535),
    host: str | None = typer.Option(
        None, "--host", help="Address to bind (default: STREAMLIT_SERVER_ADDRESS or loopback)."
    ),
) -> None:
    """Run the Streamlit dashboard (it talks to ATTRITION_API_URL)."""
    from attrition.operations.launcher import run_ui

    raise typer.Exit(run_ui(port, host))


def up(
    replicas: int = typer.Option(
        1, "--replicas", min=1, help="API replicas; more than 1 runs them behind local nginx."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes per API."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address both servers bind."),
    api_port: int = typer.Option(8000, "--api-port", min=1, max=65535),
    ui_port: int = typer.Option(8501, "--ui-port", min=1, max=65535),
) -> None:
    """Run the API and the dashboard together in the foreground (Ctrl-C stops both)."""
    from attrition.operations.launcher import api_url_for, run_up

    console.print(
        f"API on {api_url_for(host, api_port)}, dashboard on "
        f"{api_url_for(host, ui_port)} - press Ctrl-C to stop both."
    )

    def died(name: str, code: int) -> None:
        err_console.print(f"[bold red]{name} exited with code {code}; stopping.[/]")

    code = run_up(
        host=host,
        api_port=api_port,
        ui_port=ui_port,
        workers=workers,
        replicas=replicas,
        on_exit=died,
    )
    raise typer.Exit(code)


def cluster(
    replicas: int = typer.Option(2, "--replicas", min=1, help="API replicas behind nginx."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes per replica."),
    http_port: int = typer.Option(
        8080, "--http-port", min=1, max=65535, help="Balancer port (plain HTTP or redirect)."
    ),
    https_port: int = typer.Option(
        8443, "--https-port", min=1, max=65535, help="Balancer HTTPS port (with TLS files)."
    ),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate chain."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key."),
) -> None:
    """Run API replicas behind a local nginx in the foreground (Ctrl-C stops them)."""
    from attrition.operations.cluster import ClusterConfig, run_local_cluster
    from attrition.operations.tls import tls_files

    tls = tls_files(tls_cert, tls_key)
    config = ClusterConfig(
        replicas=replicas, http_port=http_port, https_port=https_port, tls=tls, workers=workers
    )
    code = run_local_cluster(
        config, get_settings(), on_ready=_cluster_ready, on_exit=_replica_exited
    )
    raise typer.Exit(code)


def _cluster_ready(cluster: LocalCluster) -> None:
    console.print(
        f"{len(cluster.replicas)} API replicas behind {cluster.url} - press Ctrl-C to stop."
    )


def _replica_exited(name: str, code: int) -> None:
    err_console.print(f"[bold red]{name} exited with code {code}.[/]")
