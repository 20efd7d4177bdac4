"""Human-readable run documents: fairness report and model card (Markdown, pure)."""

from __future__ import annotations

from typing import Any

from attrition.training.behaviour import BehaviourCheck
from attrition.training.fairness import FOUR_FIFTHS, AttributeFairness
from attrition.training.gate import GatePolicy, GateVerdict


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _group_table(report: AttributeFairness) -> list[str]:
    lines = [
        "| group | count | base rate | selection rate | recall | precision | FPR |",
        "|---|---|---|---|---|---|---|",
    ]
    for group, m in report.by_group.items():
        lines.append(
            f"| {group} | {int(m['count'])} | {m['base_rate']:.2f} | {m['selection_rate']:.2f} "
            f"| {m['recall']:.2f} | {m['precision']:.2f} | {m['false_positive_rate']:.2f} |"
        )
    return lines


def attribute_verdict(report: AttributeFairness, policy: GatePolicy) -> str:
    """One sentence explaining the attribute's parity and what the policy requires."""
    rule = policy.fairness.attributes.get(report.attribute)
    floor = rule.min_parity_ratio if rule else None
    ratio = _number(report.parity_ratio)
    four_fifths = "meets" if report.four_fifths_ok else "does not meet"
    text = f"Demographic-parity ratio {ratio} {four_fifths} the four-fifths rule ({FOUR_FIFTHS})."
    if floor is None:
        text += (
            " The policy sets no parity floor for this attribute because base rates differ"
            " between its groups; it only requires no regression against the champion"
            f" beyond {policy.fairness.regression_tolerance}."
        )
    else:
        passed = report.parity_ratio is not None and report.parity_ratio >= floor
        text += f" The policy requires at least {floor}: {'pass' if passed else 'FAIL'}."
    return text


def fairness_markdown(reports: dict[str, AttributeFairness], policy: GatePolicy) -> str:
    """The fairness report: group tables, disparity summaries and verdicts in words."""
    lines = [
        "# Fairness report",
        "",
        "Measured on every labelled employee's out-of-sample decision: out-of-fold for the",
        "training split, the final model for the holdout. (The holdout alone is too small for",
        "stable group rates; it is used for the comparison with the champion.)",
        "",
    ]
    for report in reports.values():
        lines += [f"## {report.attribute}", "", *_group_table(report), ""]
        lines.append(
            f"- demographic-parity ratio: {_number(report.parity_ratio)}; equal-opportunity "
            f"(recall) difference: {_number(report.equal_opportunity_difference)}; "
            f"equalized-odds difference: {_number(report.equalized_odds_difference)}"
        )
        lines += [f"- verdict: {attribute_verdict(report, policy)}", ""]
    return "\n".join(lines)


def model_card(
    *,
    facts: dict[str, Any],
    metrics: dict[str, float],
    oof_metrics: dict[str, float],
    verdict: GateVerdict,
    behaviour: list[BehaviourCheck],
    importance: dict[str, float],
) -> str:
    """A Markdown model card: purpose, data, model, metrics, fairness, gate, limits."""
    top = sorted(importance.items(), key=lambda kv: -kv[1])[:8]
    lines = [
        f"# Model card: {facts['model_name']}",
        "",
        "## Intended use",
        "Ranks current employees by calibrated risk of leaving so HR analysts can offer",
        "support early. Not for decisions about individuals without human review; never",
        "for hiring, pay or dismissal.",
        "",
        "## Data",
        f"- source: {facts['data_source']}; rows used: {facts['rows']} "
        f"(skipped invalid rows: {facts['skipped_rows']}); sha256: `{facts['data_hash']}`",
        f"- schema version {facts['schema_version']}; training rows {facts['train_rows']}, "
        f"stratified holdout rows {facts['holdout_rows']}",
        f"- protected attributes (Gender, Age, MaritalStatus) used as features: "
        f"{'yes' if facts['include_protected'] else 'no'}",
        "",
        "## Model",
        f"- family: {facts['family']}; best CV ROC-AUC {facts['cv_roc_auc']:.3f} "
        f"over {facts['trials']} trials (seed {facts['seed']})",
        f"- calibration: {facts['calibration']} on out-of-fold scores",
        f"- decision threshold {facts['threshold']:.3f}: {facts['threshold_reason']}",
        f"- most influential inputs: {', '.join(k for k, _ in top)}",
        "",
        "## Metrics",
        "| metric | holdout | out-of-fold |",
        "|---|---|---|",
    ]
    for name in ("roc_auc", "pr_auc", "f1", "f2", "precision", "recall", "brier", "ece"):
        lines.append(
            f"| {name} | {metrics[name]:.3f} | {oof_metrics.get(name, float('nan')):.3f} |"
        )
    lines += [
        "",
        f"Holdout ROC-AUC 95% bootstrap interval: [{metrics['roc_auc_ci_low']:.3f}, "
        f"{metrics['roc_auc_ci_high']:.3f}].",
        "",
        "## Behavioural tests",
        *[f"- {b.name}: {'pass' if b.passed else 'FAIL'} ({b.detail})" for b in behaviour],
        "",
        "## Quality gate",
        f"Verdict: {'PASSED' if verdict.passed else 'FAILED'}.",
        *[f"- {'ok' if c.passed else 'FAIL'}: {c.message}" for c in verdict.checks],
        *[f"- note: {n}" for n in verdict.notes],
        "",
        "## Limitations",
        "Trained on one organisation's historical snapshot; base rates differ between",
        "groups, so parity ratios below 0.8 for age band and marital status reflect the data",
        "and are monitored rather than blocked. Re-check after any drift alert.",
    ]
    return "\n".join(lines) + "\n"
