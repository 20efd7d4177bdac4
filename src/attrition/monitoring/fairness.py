"""Fairness in production: per group recall, selection rate and parity on realised outcomes,
next to the champion's training-time values (``fairness/fairness_report.json``).

Groups are the training audit's (``attrition.fairness_groups``: Gender, AgeBand,
MaritalStatus). A decision is "at risk" (score at or above the champion's threshold).
Per group: people, leavers, recall with a Wilson interval, selection rate. A group of fewer
than ``min_group`` people is "too few to judge"; recall is judged from ``MIN_LEAVERS``
leavers. Findings, beyond noise:

* recall: the upper end of the group's recall interval lies below its training recall
  minus the tolerance (intervals Bonferroni-corrected over the groups judged);
* parity: the ratio of the lowest to the highest selection rate among judged groups falls
  below the training ratio minus the tolerance, and the two groups' rates differ
  significantly (two-proportion z-test).

Training values come from the audit's ``out_of_sample`` part (every labelled employee's
out-of-sample decision), else its ``holdout`` part; a version without the artifact is
checked without them (no regression can be found, the report says so).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from attrition.fairness_groups import AUDITED_ATTRIBUTES, sensitive_features
from attrition.monitoring.findings import Finding
from attrition.monitoring.performance import Bounds, wilson_interval

MIN_LEAVERS: Final = 5
TOO_FEW: Final = "too few to judge"
TRAINING_BASES: Final = ("out_of_sample", "holdout")
GroupStatus = Literal["ok", "regression", "too_few"]


@dataclass(frozen=True, slots=True)
class FairnessPolicy:
    """How far a group may fall below its training value, and the smallest group judged."""

    tolerance: float = 0.1
    min_group: int = 30
    confidence: float = 0.95


@dataclass(frozen=True, slots=True)
class GroupCheck:
    """One group's realised figures, its training values and its verdict."""

    attribute: str
    group: str
    people: int
    leavers: int
    recall: float | None
    recall_bounds: Bounds | None
    selection_rate: float | None
    training_recall: float | None
    training_selection_rate: float | None
    status: GroupStatus

    @property
    def label(self) -> str:
        return f"{self.attribute}={self.group}"


@dataclass(frozen=True, slots=True)
class AttributeCheck:
    """The groups of one attribute and its parity ratio, now and at training."""

    attribute: str
    groups: tuple[GroupCheck, ...]
    parity_ratio: float | None
    training_parity_ratio: float | None
    parity_p_value: float | None
    parity_regression: bool


@dataclass(frozen=True, slots=True)
class FairnessCheck:
    """Fairness of the champion's decisions on the check's realised outcomes."""

    basis: str
    people: int
    training_basis: str | None
    tolerance: float
    min_group: int
    attributes: tuple[AttributeCheck, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        found = []
        for attribute in self.attributes:
            found += [_recall_finding(g) for g in attribute.groups if g.status == "regression"]
            if attribute.parity_regression:
                found.append(_parity_finding(attribute))
        return tuple(found)

    def to_dict(self) -> dict[str, Any]:
        data = _json_ready(asdict(self))
        data["findings"] = [f.to_dict() for f in self.findings]
        return data  # type: ignore[no-any-return]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _recall_finding(group: GroupCheck) -> Finding:
    message = (
        f"fairness: recall of {group.label} fell to {group.recall:.2f} "
        f"(training {group.training_recall:.2f}; {group.leavers} leavers of {group.people})"
    )
    return Finding("fairness", f"fairness:{group.label}:recall", message)


def _parity_finding(attribute: AttributeCheck) -> Finding:
    judged = [g for g in attribute.groups if g.status != "too_few" and g.selection_rate]
    lowest = min(judged, key=lambda g: g.selection_rate or 0.0) if judged else None
    which = f" (lowest: {lowest.group})" if lowest else ""
    message = (
        f"fairness: selection-rate parity of {attribute.attribute} fell to "
        f"{attribute.parity_ratio:.2f} (training {attribute.training_parity_ratio:.2f}){which}"
    )
    return Finding("fairness", f"fairness:{attribute.attribute}:parity", message)


# --------------------------------------------------------------------------- training values


def training_values(audit: Mapping[str, Any] | None) -> tuple[str | None, Mapping[str, Any]]:
    """Pure: (basis, per-attribute audit) from a version's fairness artifact."""
    for basis in TRAINING_BASES:
        part = (audit or {}).get(basis)
        if isinstance(part, Mapping) and part:
            return basis, part
    return None, {}


def _training_group(audit: Mapping[str, Any], attribute: str, group: str) -> Mapping[str, Any]:
    by_group = (audit.get(attribute) or {}).get("by_group") or {}
    found = by_group.get(group)
    return found if isinstance(found, Mapping) else {}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- groups


def group_check(
    attribute: str,
    group: str,
    left: npt.NDArray[np.bool_],
    flagged: npt.NDArray[np.bool_],
    training: Mapping[str, Any],
    policy: FairnessPolicy,
    confidence: float,
) -> GroupCheck:
    """One group's figures and verdict (``confidence`` already corrected for the groups)."""
    people, leavers = int(left.size), int(left.sum())
    hits = int((left & flagged).sum())
    recall = hits / leavers if leavers else None
    bounds = wilson_interval(hits, leavers, confidence) if leavers else None
    trained = _number(training.get("recall"))
    status: GroupStatus = "ok"
    if people < policy.min_group:
        status = "too_few"
    elif (
        trained is not None
        and bounds is not None
        and leavers >= MIN_LEAVERS
        and bounds[1] < trained - policy.tolerance
    ):
        status = "regression"
    return GroupCheck(
        attribute, group, people, leavers, recall, bounds,
        float(flagged.mean()) if people else None,
        trained, _number(training.get("selection_rate")), status,
    )  # fmt: skip


def parity_test(a: GroupCheck, b: GroupCheck) -> float:
    """Two-sided p-value that two groups' selection rates are equal (pooled z-test)."""
    rate_a, rate_b = a.selection_rate or 0.0, b.selection_rate or 0.0
    pooled = (rate_a * a.people + rate_b * b.people) / (a.people + b.people)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / a.people + 1 / b.people))
    if spread == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(rate_a - rate_b) / spread))


def attribute_check(
    attribute: str,
    groups: tuple[GroupCheck, ...],
    training_parity: float | None,
    policy: FairnessPolicy,
) -> AttributeCheck:
    """Parity among the groups large enough to judge, against the training ratio."""
    judged = sorted(
        (g for g in groups if g.status != "too_few" and g.selection_rate is not None),
        key=lambda g: g.selection_rate or 0.0,
    )
    if len(judged) < 2 or not judged[-1].selection_rate:
        return AttributeCheck(attribute, groups, None, training_parity, None, False)
    ratio = (judged[0].selection_rate or 0.0) / judged[-1].selection_rate
    p_value = parity_test(judged[0], judged[-1])
    regression = (
        training_parity is not None
        and ratio < training_parity - policy.tolerance
        and p_value < 1 - policy.confidence
    )
    return AttributeCheck(attribute, groups, ratio, training_parity, p_value, regression)


def _corrected(
    policy: FairnessPolicy,
    outcome: npt.NDArray[np.bool_],
    members: Mapping[str, npt.NDArray[Any]],
    labels: Mapping[str, list[Any]],
) -> float:
    """The per-group confidence, Bonferroni-corrected over the groups whose recall is judged."""
    judged = 0
    for name, groups in labels.items():
        for group in groups:
            inside = members[name] == group
            big = int(inside.sum()) >= policy.min_group
            judged += int(big and int(outcome[inside].sum()) >= MIN_LEAVERS)
    return 1 - (1 - policy.confidence) / max(judged, 1)


def production_fairness(
    frame: pd.DataFrame,
    left: Any,
    probabilities: Any,
    *,
    threshold: float,
    audit: Mapping[str, Any] | None,
    policy: FairnessPolicy,
    basis: str,
) -> FairnessCheck:
    """Per-group fairness of decisions ``probabilities >= threshold`` against ``left``."""
    outcome = np.asarray(left, dtype=bool)
    flagged = np.asarray(probabilities, dtype=np.float64) >= threshold
    training_basis, trained = training_values(audit)
    members = {name: s.to_numpy() for name, s in sensitive_features(frame).items()}
    labels = {name: sorted(set(values.tolist())) for name, values in members.items()}
    confidence = _corrected(policy, outcome, members, labels)
    attributes = []
    for name in AUDITED_ATTRIBUTES:
        groups = tuple(
            group_check(
                name, str(g), outcome[members[name] == g], flagged[members[name] == g],
                _training_group(trained, name, str(g)), policy, confidence,
            )
            for g in labels[name]
        )  # fmt: skip
        parity = _number((trained.get(name) or {}).get("parity_ratio"))
        attributes.append(attribute_check(name, groups, parity, policy))
    return FairnessCheck(
        basis, int(outcome.size), training_basis, policy.tolerance, policy.min_group,
        tuple(attributes),
    )  # fmt: skip
