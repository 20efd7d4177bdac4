"""A weak challenger is registered but not promoted; promote and rollback are audited."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from attrition import registry
from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent
from attrition.errors import ConflictError, NotFoundError
from attrition.training.train import train_model

from .conftest import quick_options, registry_config


def champion() -> str | None:
    version = registry.version_by_alias(registry.CHAMPION, registry_config())
    return None if version is None else str(version.version)


def test_weak_challenger_is_blocked_then_promote_and_rollback(dev_frame):
    sound = train_model(dev_frame, quick_options(seed=42))
    assert sound.promoted and champion() == "1"

    shuffled = dev_frame.copy()
    shuffled["Attrition"] = np.random.default_rng(0).permutation(shuffled["Attrition"].to_numpy())
    weak = train_model(shuffled, quick_options(seed=42))
    assert weak.model_version == "2"
    assert not weak.promoted and not weak.gate.passed
    reasons = " | ".join(weak.gate.reasons)
    assert "roc_auc" in reasons and "is below the floor 0.75" in reasons
    assert weak.gate.champion_version == "1"
    assert champion() == "1"
    config = registry_config()
    assert str(registry.version_by_alias(registry.CHALLENGER, config).version) == "2"

    # an operator overrides the gate, then rolls back
    moved = registry.promote("2", actor="tester", reason="manual override", config=config)
    assert (moved.version, moved.previous) == ("2", "1") and champion() == "2"
    restored = registry.rollback(actor="tester", config=config)
    assert (restored.version, restored.previous, restored.kind) == ("1", "2", "rollback")
    assert champion() == "1"
    with pytest.raises(ConflictError, match="no previous champion"):
        registry.rollback(actor="tester", config=config)
    with pytest.raises(NotFoundError, match="registered versions: 1, 2"):
        registry.promote("9", actor="tester", config=config)

    with session_scope(config.database_url) as session:
        champion_moves = [
            (e.details["version"], e.details["kind"], e.actor)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "model.alias.champion")
                .order_by(AuditEvent.id)
            )
        ]
    assert champion_moves == [
        ("1", "promote", "training"),
        ("2", "promote", "tester"),
        ("1", "rollback", "tester"),
    ]
