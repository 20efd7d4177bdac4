"""The compose stack: `docker-compose config` accepts it, secrets are required, order holds."""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"
ENV_EXAMPLE = REPO_ROOT / "deploy" / "compose.env.example"
REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?")
SERVICES = {"postgres", "redis", "mlflow", "migrate", "api", "nginx", "dashboard", "monitor"}
BUILT = {"mlflow": "mlflow", "migrate": "api", "api": "api", "dashboard": "dashboard"}
BUILT["monitor"] = "monitor"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|PSEUDONYM")


def required_variables() -> list[str]:
    """Every `${NAME:?...}` outside comments."""
    lines = [line for line in COMPOSE.read_text().splitlines() if not line.lstrip().startswith("#")]
    return sorted(set(REQUIRED.findall("\n".join(lines))))


def secret_env(names: list[str]) -> dict[str, str]:
    return {name: secrets.token_hex(16) for name in names}


def compose_config(
    compose: str, env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` with exactly ``env`` as the variables (nothing inherited)."""
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
    return subprocess.run(
        [compose, "-f", str(COMPOSE), "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)},
    )


@pytest.fixture(scope="module")
def rendered(require_tool: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The stack as `docker-compose config` resolves it, with every secret set."""
    tmp = tmp_path_factory.mktemp("compose")
    result = compose_config(require_tool("docker-compose"), secret_env(required_variables()), tmp)
    assert result.returncode == 0, f"docker-compose config rejected the stack:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def test_docker_compose_config_accepts_the_stack(rendered: Any) -> None:
    assert set(rendered["services"]) == SERVICES


def test_the_required_secrets_are_the_expected_ones() -> None:
    assert required_variables() == [
        "ATTRITION_PSEUDONYM_KEY",
        "MLFLOW_ADMIN_PASSWORD",
        "MLFLOW_DB_PASSWORD",
        "MLFLOW_FLASK_SECRET_KEY",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_USERNAME",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
    ]


@pytest.mark.parametrize("missing", ["ATTRITION_PSEUDONYM_KEY", "MLFLOW_DB_PASSWORD"])
def test_a_missing_secret_stops_compose_naming_it(
    missing: str, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    env = secret_env([name for name in required_variables() if name != missing])
    result = compose_config(require_tool("docker-compose"), env, tmp_path)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_every_use_of_a_required_secret_is_required() -> None:
    """No `${SECRET}` or `${SECRET:-default}` anywhere a secret is used: always `:?`."""
    text = COMPOSE.read_text()
    for name in required_variables():
        uses = re.findall(r"\$\{" + name + r"(:?[?-]?)", text)
        assert uses and set(uses) == {":?"}, f"{name} is used without :? somewhere"


def test_the_env_example_lists_every_required_secret() -> None:
    example = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert set(required_variables()) <= example


def test_no_secret_value_is_written_into_the_compose_file() -> None:
    stack = yaml.safe_load(COMPOSE.read_text())
    for name, service in stack["services"].items():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if key.startswith("<<") or not SECRET_NAME.search(key):
                continue
            if str(value).startswith("/"):  # a path to a mounted file (TLS key), not a value
                continue
            assert "${" in str(value), f"{name}.{key} must come from the environment"


def test_services_start_in_order_on_healthy_dependencies(rendered: Any) -> None:
    services = rendered["services"]

    def condition(service: str, dependency: str) -> str:
        return str(services[service]["depends_on"][dependency]["condition"])

    assert condition("migrate", "postgres") == "service_healthy"
    assert condition("mlflow", "postgres") == "service_healthy"
    assert condition("api", "migrate") == "service_completed_successfully"
    assert condition("api", "mlflow") == "service_healthy"
    assert condition("api", "redis") == "service_healthy"
    assert condition("nginx", "api") == "service_healthy"
    assert condition("dashboard", "api") == "service_healthy"
    assert condition("monitor", "migrate") == "service_completed_successfully"


def test_every_long_running_service_has_a_health_check(rendered: Any) -> None:
    for name, service in rendered["services"].items():
        if name == "migrate":
            continue
        if name in BUILT:
            dockerfile = REPO_ROOT / "deploy" / BUILT[name] / "Dockerfile"
            assert "HEALTHCHECK" in dockerfile.read_text(), name
        else:
            assert service["healthcheck"]["test"], name


def test_images_are_pinned_and_built_from_the_repository(rendered: Any) -> None:
    for name, service in rendered["services"].items():
        if name in BUILT:
            assert service["build"]["dockerfile"] == f"deploy/{BUILT[name]}/Dockerfile"
            assert Path(service["build"]["context"]) == REPO_ROOT
        else:
            assert re.search(r":\d+(\.\d+)+-", service["image"]), f"{name}: {service['image']}"


def test_api_replicas_sit_behind_nginx_on_an_internal_network(rendered: Any) -> None:
    services = rendered["services"]
    assert services["api"]["deploy"]["replicas"] >= 2
    assert "ports" not in services["api"], "replicas are reached through nginx only"
    assert rendered["networks"]["backend"]["internal"] is True
    assert set(services["nginx"]["networks"]) == {"backend", "edge"}
    nginx_env = services["nginx"]["environment"]
    assert nginx_env["ATTRITION_UPSTREAM_SERVERS"].startswith("server api:8000 max_fails=")
    mounts = " ".join(str(volume) for volume in services["nginx"]["volumes"])
    assert "attrition.conf.template" in mounts and "/etc/nginx/certs" in mounts


def test_mlflow_uses_postgresql_basic_auth_and_an_artifact_volume(rendered: Any) -> None:
    mlflow = rendered["services"]["mlflow"]
    env = mlflow["environment"]
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg://mlflow:")
    assert env["MLFLOW_AUTH_DATABASE_URI"].startswith("postgresql+psycopg://mlflow:")
    assert "--app-name basic-auth" in (REPO_ROOT / "deploy/mlflow/entrypoint.sh").read_text()
    assert any("/mlartifacts" in str(volume) for volume in mlflow["volumes"])


def test_monitor_runs_on_a_schedule(rendered: Any) -> None:
    monitor = rendered["services"]["monitor"]
    assert int(monitor["environment"]["ATTRITION_MONITOR_INTERVAL_SECONDS"]) > 0
    loop = (REPO_ROOT / "deploy/monitor/loop.sh").read_text()
    assert "set -- attrition monitor --retrain --json" in loop
