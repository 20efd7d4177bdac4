"""Addressing a version's model and run artifacts (loading a trained one: integration)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from attrition.errors import AttritionError, NotFoundError
from attrition.registry import RegistryConfig, connect, load_model, model_uri
from attrition.registry.artifacts import run_id_of

Register = Callable[..., list[str]]  # the `register` fixture


def test_model_uris_name_a_version_or_an_alias(config: RegistryConfig) -> None:
    assert model_uri("4", config) == f"models:/{config.model_name}/4"
    assert model_uri("champion", config) == f"models:/{config.model_name}@champion"


def test_the_run_of_an_unknown_version_or_an_unheld_alias_is_not_found(
    config: RegistryConfig, register: Register
) -> None:
    register(1)
    client = connect(config)
    assert run_id_of("1", config, client) == "None"  # registered without a run
    with pytest.raises(NotFoundError, match="does not exist"):
        run_id_of("5", config, client)
    with pytest.raises(NotFoundError, match="alias 'champion'"):
        run_id_of("champion", config, client)


def test_a_model_that_cannot_be_loaded_is_a_user_error(config: RegistryConfig) -> None:
    with pytest.raises(AttritionError, match="cannot be loaded"):
        load_model("champion", config)
