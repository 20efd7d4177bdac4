"""Registry aliases (never stages): ``challenger`` and ``champion``, and their moves.

A new version gets ``challenger``; ``champion`` moves only through :func:`set_alias` (gate
pass, ``attrition promote``, ``attrition rollback``), and every move is written to the
audit trail (``trail.py``). Rollback replays the champion moves of the trail as a stack: a
promotion pushes, a rollback pops.

Errors say what went wrong: an unknown version is a :class:`NotFoundError`; a rollback with
nothing to roll back to is a :class:`ConflictError`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from attrition.errors import ConflictError, NotFoundError
from attrition.registry.client import connect
from attrition.registry.config import RegistryConfig
from attrition.registry.trail import AliasMove, alias_history, champion_stack, record_move

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

logger = logging.getLogger(__name__)

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
# What MLflow answers for an alias nobody holds: a local store says the parameter is invalid,
# a server that the resource does not exist.
_NO_SUCH_ALIAS: Final = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


def version_by_alias(
    alias: str, config: RegistryConfig, *, client: MlflowClient | None = None
) -> ModelVersion | None:
    """The version holding ``alias``, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    client = client or connect(config)
    try:
        return client.get_model_version_by_alias(config.model_name, alias)
    except MlflowException:
        return None


def champion_version(config: RegistryConfig) -> str:
    """The champion's version number; NotFoundError without one. Any other failure (an
    unreachable registry) propagates, so a caller can tell "none" from "cannot ask"."""
    from mlflow.exceptions import MlflowException

    try:
        found = connect(config).get_model_version_by_alias(config.model_name, CHAMPION)
    except MlflowException as error:
        if error.error_code not in _NO_SUCH_ALIAS:
            raise
        raise NotFoundError(f"{config.model_name!r} has no {CHAMPION} yet") from error
    return str(found.version)


def read_aliases(config: RegistryConfig) -> dict[str, str]:
    """alias -> version for the model, from the registry."""
    model = connect(config).get_registered_model(config.model_name)
    return {str(alias): str(version) for alias, version in (model.aliases or {}).items()}


def list_versions(config: RegistryConfig, client: MlflowClient | None = None) -> list[str]:
    """Registered version numbers of the model, ascending."""
    from mlflow.exceptions import MlflowException

    client = client or connect(config)
    try:
        found = client.search_model_versions(f"name = '{config.model_name}'")
    except MlflowException:
        return []
    return sorted((str(v.version) for v in found), key=int)


def existing_version(client: MlflowClient, config: RegistryConfig, version: str) -> ModelVersion:
    """A registered version; NotFoundError listing the registered ones when it is unknown."""
    from mlflow.exceptions import MlflowException

    name = config.model_name
    try:
        return client.get_model_version(name, str(version))
    except MlflowException as error:
        raise NotFoundError(
            f"model version {version!r} of {name!r} does not exist; "
            f"registered versions: {', '.join(list_versions(config, client)) or 'none'}"
        ) from error


def set_alias(
    alias: str,
    version: str,
    *,
    actor: str,
    kind: str,
    reason: str,
    config: RegistryConfig,
    client: MlflowClient | None = None,
) -> AliasMove:
    """Move ``alias`` to ``version`` in the registry and audit the move."""
    client = client or connect(config)
    name = config.model_name
    target = existing_version(client, config, version)
    current = version_by_alias(alias, config, client=client)
    client.set_registered_model_alias(name, alias, str(target.version))
    move = AliasMove(
        model_name=name,
        alias=alias,
        version=str(target.version),
        previous=str(current.version) if current else None,
        kind=kind,
        reason=reason,
        actor=actor,
    )
    record_move(move, config.database_url)
    logger.info("alias %s of %s moved to v%s (%s)", alias, name, move.version, kind)
    return move


def promote(
    version: str,
    *,
    actor: str,
    reason: str = "manual promotion",
    config: RegistryConfig,
) -> AliasMove:
    """Make ``version`` the champion (audited); NotFoundError for an unknown version."""
    return set_alias(CHAMPION, version, actor=actor, kind="promote", reason=reason, config=config)


def previous_champion(config: RegistryConfig, client: MlflowClient) -> str:
    """The version a rollback returns to; ConflictError when there is none."""
    current = version_by_alias(CHAMPION, config, client=client)
    if current is None:
        raise ConflictError("rollback: there is no champion to roll back from")
    moves = alias_history(CHAMPION, model_name=config.model_name, database_url=config.database_url)
    stack = champion_stack(moves)
    while stack and stack[-1] == str(current.version):
        stack.pop()
    if not stack:
        raise ConflictError(
            f"rollback: champion v{current.version} has no previous champion in the audit trail"
        )
    return stack[-1]


def rollback(*, actor: str, reason: str = "manual rollback", config: RegistryConfig) -> AliasMove:
    """Move the champion back to the previous champion in the audit trail; ConflictError
    when there is no champion, no previous one, or the previous one is gone."""
    client = connect(config)
    version = previous_champion(config, client)
    try:
        return set_alias(
            CHAMPION, version, actor=actor, kind="rollback", reason=reason, config=config,
            client=client,
        )  # fmt: skip
    except NotFoundError as error:  # pruned since: the state, not the request, is wrong
        raise ConflictError(f"rollback: {error}") from error
