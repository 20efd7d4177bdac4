"""Fairness in production: a collapsed group is named, a balanced window is quiet, a small
group is "too few to judge"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.monitoring.fairness import (
    TOO_FEW,
    FairnessPolicy,
    production_fairness,
    training_values,
)

THRESHOLD = 0.5
POLICY = FairnessPolicy(tolerance=0.1, min_group=30)


def workforce(rows: int, seed: int, *, divorced: int | None = None) -> pd.DataFrame:
    """People with the audited attributes; ``divorced`` fixes how many are divorced."""
    rng = np.random.default_rng(seed)
    marital = rng.choice(["Single", "Married"], size=rows).astype(object)
    if divorced is not None:
        marital[:divorced] = "Divorced"
    return pd.DataFrame(
        {
            "Gender": rng.choice(["Female", "Male"], size=rows),
            "Age": rng.integers(20, 60, size=rows),
            "MaritalStatus": marital,
        }
    )


def decisions(
    frame: pd.DataFrame, seed: int, collapsed: str | None = None
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Outcomes (20 % leave) and scores catching 75 % of leavers; ``collapsed`` women's
    leavers are caught 5 % of the time."""
    rng = np.random.default_rng(seed)
    left = rng.random(len(frame)) < 0.2
    caught = rng.random(len(frame)) < 0.75
    if collapsed is not None:
        group = (frame["Gender"] == collapsed).to_numpy()
        caught[group] = rng.random(int(group.sum())) < 0.05
    false_alarm = rng.random(len(frame)) < 0.1
    flagged = np.where(left, caught, false_alarm)
    return left, np.where(flagged, 0.8, 0.2)


def training_audit() -> dict[str, Any]:
    """The shape training logs (``fairness/fairness_report.json``), balanced groups."""
    group = {"count": 200.0, "recall": 0.75, "selection_rate": 0.23}
    groups = {
        "Gender": ("Female", "Male"),
        "AgeBand": ("under 40", "40 and over"),
        "MaritalStatus": ("Single", "Married", "Divorced"),
    }
    return {
        "basis": "...",
        "out_of_sample": {
            name: {"by_group": {g: dict(group) for g in values}, "parity_ratio": 0.95}
            for name, values in groups.items()
        },
    }


def check(frame: pd.DataFrame, left: Any, scores: Any) -> Any:
    return production_fairness(
        frame, left, scores, threshold=THRESHOLD, audit=training_audit(), policy=POLICY,
        basis="outcomes",
    )  # fmt: skip


def test_a_collapsed_group_recall_is_a_finding_naming_the_group() -> None:
    frame = workforce(800, seed=1)
    left, scores = decisions(frame, seed=2, collapsed="Female")
    result = check(frame, left, scores)
    codes = [f.code for f in result.findings]
    assert "fairness:Gender=Female:recall" in codes
    assert not any("Gender=Male" in code for code in codes)
    message = next(f.message for f in result.findings if "Female" in f.code)
    assert "Gender=Female" in message and "training 0.75" in message


@pytest.mark.parametrize("seed", range(5))
def test_a_balanced_window_raises_nothing(seed: int) -> None:
    frame = workforce(800, seed=10 + seed)
    left, scores = decisions(frame, seed=20 + seed)
    result = check(frame, left, scores)
    assert result.findings == ()
    gender = result.attributes[0]
    assert gender.parity_ratio is not None and gender.parity_ratio > 0.7
    assert {g.status for g in gender.groups} == {"ok"}


def test_a_group_of_five_people_is_too_few_to_judge() -> None:
    frame = workforce(400, seed=3, divorced=5)
    left, scores = decisions(frame, seed=4)
    left[:5], scores[:5] = True, 0.1  # every divorced leaver missed: still not judged
    result = check(frame, left, scores)
    marital = next(a for a in result.attributes if a.attribute == "MaritalStatus")
    divorced = next(g for g in marital.groups if g.group == "Divorced")
    assert divorced.people == 5 and divorced.status == "too_few"
    assert result.findings == ()
    assert TOO_FEW == "too few to judge"
    groups = result.to_dict()["attributes"][2]["groups"]
    assert [g["status"] for g in groups if g["group"] == "Divorced"] == ["too_few"]


def test_parity_collapse_is_a_finding() -> None:
    frame = workforce(800, seed=5)
    left, scores = decisions(frame, seed=6)
    older = (frame["Age"] >= 40).to_numpy()
    scores = np.where(older, 0.1, scores)  # nobody over 40 is ever flagged
    codes = [f.code for f in check(frame, left, scores).findings]
    assert "fairness:AgeBand:parity" in codes
    assert "fairness:AgeBand=40 and over:recall" in codes


def test_without_training_values_nothing_regresses() -> None:
    frame = workforce(800, seed=1)
    left, scores = decisions(frame, seed=2, collapsed="Female")
    result = production_fairness(
        frame, left, scores, threshold=THRESHOLD, audit=None, policy=POLICY, basis="outcomes"
    )
    assert result.training_basis is None and result.findings == ()
    assert training_values({"holdout": {"Gender": {}}})[0] == "holdout"
