"""A self-contained HTML drift report: summary, per-feature table, inline SVG plots.

One file, no scripts, no external assets; plots are small inline SVGs of aggregated
proportions (reference vs current) for each drifted feature and for the scores. Only
aggregates appear: no employee ids and no row-level values.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, Template
from markupsafe import Markup

from attrition.db.types import utcnow
from attrition.monitoring.drift import Distribution, DriftResult, FeatureDrift
from attrition.monitoring.performance import PerformanceResult

WIDTH, HEIGHT = 560, 190
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 58
REFERENCE_COLOUR, CURRENT_COLOUR = "#4c78a8", "#f58518"
MAX_LABEL = 14


def fmt(value: Any, digits: int = 3) -> str:
    """Numbers for humans: None as a dash, tiny p-values in scientific notation."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 10 ** (-digits):
            return f"{value:.1e}"
        return f"{value:.{digits}f}"
    return str(value)


def _bin_labels(distribution: Distribution) -> list[str]:
    if distribution.labels:
        return list(distribution.labels)
    edges = distribution.edges
    return [f"{fmt(edges[i], 1)}–{fmt(edges[i + 1], 1)}" for i in range(len(edges) - 1)]


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _bars(
    values: Sequence[float], slot: float, offset: float, scale: float, colour: str
) -> list[str]:
    parts = []
    bottom = HEIGHT - BOTTOM
    for i, value in enumerate(values):
        height = value * scale
        x = LEFT + i * slot + offset
        parts.append(
            f'<rect x="{x:.1f}" y="{bottom - height:.1f}" width="{slot * 0.4:.1f}" '
            f'height="{height:.1f}" fill="{colour}"><title>{value:.1%}</title></rect>'
        )
    return parts


def _axis_labels(labels: Sequence[str], slot: float) -> list[str]:
    step = max(1, len(labels) // 12)  # at most ~12 labels so they stay legible
    parts = []
    for i in range(0, len(labels), step):
        x = LEFT + (i + 0.5) * slot
        y = HEIGHT - BOTTOM + 10
        parts.append(
            f'<text x="{x:.1f}" y="{y}" transform="rotate(35 {x:.1f} {y})" font-size="9">'
            f"{html.escape(_short(labels[i]))}</text>"
        )
    return parts


def distribution_svg(reference: Distribution, current: Distribution, title: str) -> Markup:
    """Grouped bars of reference vs current proportions as one inline SVG."""
    labels = _bin_labels(reference if reference.proportions else current)
    count = max(len(labels), 1)
    ref_values = list(reference.proportions) or [0.0] * count
    cur_values = list(current.proportions) or [0.0] * count
    peak = max([*ref_values, *cur_values, 1e-9])
    slot = (WIDTH - LEFT - RIGHT) / count
    scale = (HEIGHT - TOP - BOTTOM) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{LEFT}" y="10" font-size="10">max {peak:.1%}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}" stroke="#999"/>',
        *_bars(ref_values, slot, slot * 0.1, scale, REFERENCE_COLOUR),
        *_bars(cur_values, slot, slot * 0.5, scale, CURRENT_COLOUR),
        *_axis_labels(labels, slot),
        "</svg>",
    ]
    return Markup("".join(parts))  # every label above is escaped


def _plots(drift: DriftResult) -> list[dict[str, Any]]:
    chosen: list[FeatureDrift] = [f for f in drift.features if f.drifted]
    if drift.prediction is not None:
        chosen.append(drift.prediction)
    return [
        {
            "feature": f,
            "svg": distribution_svg(f.reference, f.current, f"{f.name}: reference vs current"),
        }
        for f in chosen
    ]


def verdict_fields(drift: DriftResult, performance: PerformanceResult | None) -> dict[str, Any]:
    """The headline verdicts, as the ``monitor --json`` output and ``drift_report`` row use them."""
    return {
        "dataset_drift": drift.dataset_drift,
        "drift_share": drift.drift_share,
        "drifted_features": list(drift.drifted_features),
        "prediction_drift": drift.prediction_drift,
        "performance_decay": bool(performance is not None and performance.decay),
        "performance": None if performance is None else performance.to_dict(),
    }


def report_row_fields(drift: DriftResult, performance: PerformanceResult | None) -> dict[str, Any]:
    """Keyword arguments for ``db.models.DriftReport`` that come from the results.

    The caller adds model name and version, source, window and the rendered ``html``.
    """
    verdicts = verdict_fields(drift, performance)
    return {
        "reference_rows": drift.reference_rows,
        "current_rows": drift.current_rows,
        "dataset_drift": verdicts["dataset_drift"],
        "drift_share": verdicts["drift_share"],
        "prediction_drift": verdicts["prediction_drift"],
        "performance_decay": verdicts["performance_decay"],
        "drifted_features": verdicts["drifted_features"],
        "summary": {"drift": drift.to_dict(), "performance": verdicts["performance"]},
    }


@lru_cache(maxsize=1)
def _template() -> Template:
    environment = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["fmt"] = fmt
    return environment.from_string(TEMPLATE)


def render_report(
    drift: DriftResult,
    *,
    model_name: str,
    model_version: str,
    performance: PerformanceResult | None = None,
    source: str | None = None,
    window: tuple[datetime | None, datetime | None] | None = None,
    generated_at: datetime | None = None,
    sections: Sequence[Markup] = (),
) -> str:
    """The whole report as one HTML string; ``sections`` (already escaped HTML, e.g. fairness
    and data quality) go after the performance table."""
    return _template().render(
        drift=drift,
        model_name=model_name,
        model_version=model_version,
        performance=performance,
        source=source,
        window=window,
        generated_at=(generated_at or utcnow()).isoformat(timespec="seconds"),
        plots=_plots(drift),
        reference_colour=REFERENCE_COLOUR,
        current_colour=CURRENT_COLOUR,
        sections=sections,
    )


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Drift report: {{ model_name }} v{{ model_version }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.card b{display:block;font-size:18px}.bad{color:#b00020}.good{color:#1b7f3b}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}tr.drifted td{background:#fff3f3}
.plot{display:inline-block;margin:8px 12px 8px 0;vertical-align:top}
.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
footer{margin-top:32px;color:#777;font-size:12px}
</style></head><body>
<h1>Drift report: {{ model_name }} version {{ model_version }}</h1>
<p>Generated {{ generated_at }}{% if source %} &middot; current data: {{ source }}{% endif %}
{% if window %} &middot; window {{ window[0] or "–" }} to {{ window[1] or "–" }}{% endif %}
 &middot; reference rows {{ drift.reference_rows }}, current rows {{ drift.current_rows }}</p>

<h2>Summary</h2>
<div class="cards">
<div class="card">Dataset drift
<b class="{{ 'bad' if drift.dataset_drift else 'good' }}">{{ drift.dataset_drift | fmt }}</b></div>
<div class="card">Drifted features
<b>{{ drift.drifted_features | length }} of {{ drift.features | length }}</b>
share {{ drift.drift_share | fmt(2) }} (threshold {{ drift.drift_share_threshold | fmt(2) }})</div>
<div class="card">Prediction drift
<b class="{{ 'bad' if drift.prediction_drift else 'good' }}">
{{ drift.prediction_drift | fmt if drift.prediction else "no scores" }}</b></div>
<div class="card">Performance
<b class="{{ 'bad' if performance and performance.decay else 'good' }}">
{{ performance.status | replace("_", " ") if performance else "no outcomes" }}</b></div>
</div>
<p>A feature drifts when its {{ drift.correction }}-corrected p-value is below
{{ drift.alpha }} and its effect size reaches the threshold, or when its share of
missing or unseen values moves past tolerance.</p>
{% if drift.drifted_features %}
<p><b>Drifted:</b> {{ drift.drifted_features | join(", ") }}</p>
{% endif %}

<h2>Features</h2>
<table><thead><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th>
<th>p-value</th><th>p adjusted</th><th>effect</th><th>threshold</th>
<th>missing ref / cur</th><th>unseen</th><th>drifted</th></tr></thead><tbody>
{% for f in drift.features %}
<tr class="{{ 'drifted' if f.drifted }}"><td>{{ f.name }}</td><td>{{ f.kind }}</td>
<td>{{ f.test }}</td><td>{{ f.statistic | fmt }}</td><td>{{ f.p_value | fmt }}</td>
<td>{{ f.p_adjusted | fmt }}</td>
<td>{{ f.effect | fmt }} <small>{{ f.effect_name | replace("_", " ") }}</small></td>
<td>{{ f.threshold | fmt(2) }}</td>
<td>{{ f.missing_rate_reference | fmt }} / {{ f.missing_rate_current | fmt }}</td>
<td>{% for k, v in f.unseen.items() %}{{ k }} ({{ v }}){{ ", " if not loop.last }}{% endfor %}</td>
<td>{{ f.reasons | join(", ") if f.drifted else "no" }}</td></tr>
{% endfor %}
</tbody></table>

{% if plots %}
<h2>Distributions</h2>
<p class="key"><span style="background:{{ reference_colour }}"></span>reference
<span style="background:{{ current_colour }}"></span>current (share of rows per bar)</p>
{% for plot in plots %}
<div class="plot"><b>{{ plot.feature.name }}</b> <small>{{ plot.feature.kind }},
effect {{ plot.feature.effect | fmt }}</small><br>{{ plot.svg }}</div>
{% endfor %}
{% endif %}

{% if performance %}
<h2>Performance on realised outcomes</h2>
{% set h = performance.holdout %}
<table><thead><tr><th>window</th><th>outcomes</th><th>leavers</th><th>status</th>
<th>ROC-AUC (interval)</th><th>recall</th><th>precision</th><th>Brier</th><th>ECE</th>
<th>observed rate / mean score</th></tr></thead><tbody>
{% for w in performance.windows + (performance.overall,) %}
<tr class="{{ 'drifted' if w.decayed }}">
<td>{{ "overall" if loop.last else (w.start.date() ~ " – " ~ w.end.date()) }}</td>
<td>{{ w.outcomes }}</td><td>{{ w.positives }}</td><td>{{ w.status | replace("_", " ") }}
{% if w.reasons %}({{ w.reasons | join(", ") }}){% endif %}</td>
<td>{{ w.roc_auc | fmt }}{% if w.roc_auc_bounds %}
({{ w.roc_auc_bounds[0] | fmt }}–{{ w.roc_auc_bounds[1] | fmt }}){% endif %}</td>
<td>{{ w.recall | fmt }}</td><td>{{ w.precision | fmt }}</td><td>{{ w.brier | fmt }}</td>
<td>{{ w.ece | fmt }}</td><td>{{ w.observed_rate | fmt }} / {{ w.mean_score | fmt }}</td></tr>
{% endfor %}
<tr><td>holdout</td><td></td><td></td><td></td><td>{{ h.roc_auc | fmt }}</td>
<td>{{ h.recall | fmt }}</td><td>{{ h.precision | fmt }}</td><td>{{ h.brier | fmt }}</td>
<td>{{ h.ece | fmt }}</td><td></td></tr>
</tbody></table>
{% endif %}
{% for section in sections %}{{ section }}{% endfor %}
<footer>Aggregated statistics only: no employee identifiers or row-level values.</footer>
</body></html>
"""
