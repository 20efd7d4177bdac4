"""The quality gate: may a new version become champion? Every verdict explained in words.

The policy comes from ``configs/gate.yaml`` (``settings.gate_config``); its defaults below
are the shipped file's values, used when the default path does not exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attrition.errors import AttritionError
from attrition.training.behaviour import BehaviourCheck
from attrition.training.fairness import AUDITED_ATTRIBUTES, AttributeFairness

logger = logging.getLogger(__name__)
DEFAULT_GATE_CONFIG = Path("configs/gate.yaml")


class AttributePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_parity_ratio: float | None = Field(default=None, ge=0, le=1)


def _default_attributes() -> dict[str, AttributePolicy]:
    return {
        "Gender": AttributePolicy(min_parity_ratio=0.8),
        "AgeBand": AttributePolicy(),
        "MaritalStatus": AttributePolicy(),
    }


class FairnessPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regression_tolerance: float = Field(default=0.05, ge=0, le=1)
    attributes: dict[str, AttributePolicy] = Field(default_factory=_default_attributes)


class GatePolicy(BaseModel):
    """Floors, ceilings, champion tolerances, fairness policy, behavioural requirement."""

    model_config = ConfigDict(extra="forbid")
    metric_floors: dict[str, float] = {"roc_auc": 0.75, "pr_auc": 0.35, "recall": 0.5}
    metric_ceilings: dict[str, float] = {"ece": 0.08, "brier": 0.15}
    champion_tolerance: dict[str, float] = {"roc_auc": 0.02, "pr_auc": 0.05}
    fairness: FairnessPolicy = Field(default_factory=FairnessPolicy)
    behaviour_required: bool = True


def load_gate_policy(path: Path) -> GatePolicy:
    """Read and validate the gate policy; a missing default file means built-in defaults."""
    if not path.exists():
        if path == DEFAULT_GATE_CONFIG:
            logger.info("gate config %s not found; using the built-in default policy", path)
            return GatePolicy()
        raise AttritionError(f"gate_config: file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        policy = GatePolicy.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as error:
        raise AttritionError(f"gate_config {path} is invalid: {error}") from error
    unknown = set(policy.fairness.attributes) - set(AUDITED_ATTRIBUTES)
    if unknown:
        raise AttritionError(
            f"gate_config fairness.attributes: unknown {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(AUDITED_ATTRIBUTES)}"
        )
    return policy


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One gate check: what it compared and whether it passed, in words."""

    name: str
    passed: bool
    message: str


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """All checks; ``passed`` only when every check passed."""

    checks: tuple[GateCheck, ...]
    champion_version: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        """The failed checks' messages, or a summary of success."""
        failed = [c.message for c in self.checks if not c.passed]
        return failed or [f"all {len(self.checks)} gate checks passed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": self.reasons,
            "champion_version": self.champion_version,
            "notes": list(self.notes),
            "checks": [
                {"name": c.name, "passed": c.passed, "message": c.message} for c in self.checks
            ],
        }


def metric_checks(metrics: dict[str, float], policy: GatePolicy) -> list[GateCheck]:
    """Floors (at least) and ceilings (at most) on the challenger's holdout metrics."""
    checks: list[GateCheck] = []
    for name, floor in policy.metric_floors.items():
        value = metrics[name]
        ok = value >= floor
        verb = "meets" if ok else "is below"
        checks.append(
            GateCheck(f"floor:{name}", ok, f"{name} {value:.3f} {verb} the floor {floor}")
        )
    for name, ceiling in policy.metric_ceilings.items():
        value = metrics[name]
        ok = value <= ceiling
        verb = "is within" if ok else "exceeds"
        checks.append(
            GateCheck(f"ceiling:{name}", ok, f"{name} {value:.3f} {verb} the ceiling {ceiling}")
        )
    return checks


def champion_checks(
    metrics: dict[str, float], champion: dict[str, float], version: str, policy: GatePolicy
) -> list[GateCheck]:
    """The challenger may trail the champion (same holdout) by at most the tolerance."""
    checks: list[GateCheck] = []
    for name, tolerance in policy.champion_tolerance.items():
        ours, theirs = metrics[name], champion[name]
        ok = ours >= theirs - tolerance
        relation = "is not worse than" if ok else "is worse than"
        checks.append(
            GateCheck(
                f"champion:{name}",
                ok,
                f"{name} {ours:.3f} {relation} champion v{version}'s {theirs:.3f} on the same "
                f"holdout beyond the tolerance {tolerance}",
            )
        )
    return checks


def _parity_floor_check(report: AttributeFairness, floor: float) -> GateCheck:
    ratio = report.parity_ratio
    if ratio is None:
        message = (
            f"{report.attribute}: demographic-parity ratio is undefined (no employee flagged "
            f"in any group); the floor {floor} cannot be verified"
        )
        return GateCheck(f"fairness:{report.attribute}:parity", False, message)
    ok = ratio >= floor
    verb = "meets" if ok else "is below"
    rates = ", ".join(f"{g} {m['selection_rate']:.2f}" for g, m in report.by_group.items())
    message = (
        f"{report.attribute}: demographic-parity ratio {ratio:.2f} {verb} the required "
        f"{floor} (selection rates {rates})"
    )
    return GateCheck(f"fairness:{report.attribute}:parity", ok, message)


def _regression_checks(
    ours: AttributeFairness, theirs: AttributeFairness, tolerance: float
) -> list[GateCheck]:
    checks: list[GateCheck] = []
    name = ours.attribute
    if ours.parity_ratio is not None and theirs.parity_ratio is not None:
        ok = ours.parity_ratio >= theirs.parity_ratio - tolerance
        verb = "does not regress from" if ok else "regresses from"
        checks.append(
            GateCheck(
                f"fairness:{name}:parity_regression",
                ok,
                f"{name}: parity ratio {ours.parity_ratio:.2f} {verb} the champion's "
                f"{theirs.parity_ratio:.2f} beyond the tolerance {tolerance}",
            )
        )
    if ours.equalized_odds_difference is not None and theirs.equalized_odds_difference is not None:
        ok = ours.equalized_odds_difference <= theirs.equalized_odds_difference + tolerance
        verb = "does not regress from" if ok else "regresses from"
        checks.append(
            GateCheck(
                f"fairness:{name}:equalized_odds_regression",
                ok,
                f"{name}: equalized-odds difference {ours.equalized_odds_difference:.2f} "
                f"{verb} the champion's {theirs.equalized_odds_difference:.2f} beyond the "
                f"tolerance {tolerance}",
            )
        )
    return checks


def fairness_checks(
    ours: dict[str, AttributeFairness],
    policy: GatePolicy,
    champion: ChampionComparison | None = None,
    ours_on_holdout: dict[str, AttributeFairness] | None = None,
) -> list[GateCheck]:
    """Per-attribute parity floors; no regression against the champion on the holdout.

    ``ours`` is measured on every out-of-sample decision (the larger, steadier sample);
    the champion comparison uses the holdout, the only rows both models have not seen.
    """
    checks: list[GateCheck] = []
    tolerance = policy.fairness.regression_tolerance
    for attribute, rule in policy.fairness.attributes.items():
        if rule.min_parity_ratio is not None:
            checks.append(_parity_floor_check(ours[attribute], rule.min_parity_ratio))
        if champion is not None and ours_on_holdout is not None:
            checks.extend(
                _regression_checks(
                    ours_on_holdout[attribute], champion.fairness[attribute], tolerance
                )
            )
    return checks


def behaviour_gate_checks(results: list[BehaviourCheck], policy: GatePolicy) -> list[GateCheck]:
    """Each behavioural test as a gate check (informational when not required)."""
    return [
        GateCheck(
            f"behaviour:{r.name}",
            r.passed or not policy.behaviour_required,
            f"behavioural test {r.name} {'passed' if r.passed else 'failed'}: {r.detail}",
        )
        for r in results
    ]


@dataclass(frozen=True, slots=True)
class ChampionComparison:
    """The current champion scored on the challenger's holdout."""

    version: str
    metrics: dict[str, float]
    fairness: dict[str, AttributeFairness]


def evaluate_gate(
    metrics: dict[str, float],
    fairness: dict[str, AttributeFairness],
    behaviour: list[BehaviourCheck],
    policy: GatePolicy,
    champion: ChampionComparison | None,
    holdout_fairness: dict[str, AttributeFairness] | None = None,
) -> GateVerdict:
    """Combine every check into one verdict.

    ``fairness``: on all out-of-sample decisions; ``holdout_fairness``: on the holdout
    (compared with the champion's on the same rows; defaults to ``fairness``).
    """
    checks = metric_checks(metrics, policy)
    notes: list[str] = []
    if champion is not None:
        checks += champion_checks(metrics, champion.metrics, champion.version, policy)
    else:
        notes.append("no current champion: champion comparisons skipped")
    checks += fairness_checks(fairness, policy, champion, holdout_fairness or fairness)
    checks += behaviour_gate_checks(behaviour, policy)
    return GateVerdict(tuple(checks), champion.version if champion else None, tuple(notes))
