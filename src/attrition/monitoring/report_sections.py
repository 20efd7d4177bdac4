"""The drift report's sections on fairness in production and data quality (HTML fragments,
aggregates only: group names, field names and counts, never a person or a value)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, Template
from markupsafe import Markup

from attrition.monitoring.fairness import TOO_FEW, FairnessCheck
from attrition.monitoring.quality import QualityCheck
from attrition.monitoring.report import fmt


@lru_cache(maxsize=2)
def _template(text: str) -> Template:
    environment = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["fmt"] = fmt
    return environment.from_string(text)


def fairness_section(fairness: FairnessCheck | None) -> Markup:
    """Per attribute and group: people, leavers, recall and selection rate against training."""
    return Markup(_template(FAIRNESS).render(f=fairness, too_few=TOO_FEW))


def quality_section(quality: QualityCheck | None) -> Markup:
    """Bad-input share now and before, the fields failing most, unseen categories."""
    return Markup(_template(QUALITY).render(q=quality))


def sections(fairness: FairnessCheck | None, quality: QualityCheck | None) -> tuple[Markup, ...]:
    return fairness_section(fairness), quality_section(quality)


FAIRNESS = """<h2>Fairness in production</h2>
{% if not f %}
<p>No realised outcomes yet: record them with POST /v1/outcomes.</p>
{% else %}
<p>{{ f.people }} people with a known outcome ({{ f.basis }}); training values:
{{ f.training_basis or "none (this version has no fairness audit)" }}. A group under
{{ f.min_group }} people is {{ too_few }}; tolerance {{ f.tolerance | fmt(2) }}.</p>
{% for finding in f.findings %}<p class="bad"><b>{{ finding.message }}</b></p>{% endfor %}
<table><thead><tr><th>group</th><th>people</th><th>leavers</th><th>recall</th>
<th>training recall</th><th>selection rate</th><th>training selection rate</th>
<th>verdict</th></tr></thead><tbody>
{% for a in f.attributes %}
<tr class="{{ 'drifted' if a.parity_regression }}"><td><b>{{ a.attribute }}</b></td>
<td colspan="6">parity ratio {{ a.parity_ratio | fmt(2) }} (training
{{ a.training_parity_ratio | fmt(2) }})</td>
<td>{{ "parity regression" if a.parity_regression else "" }}</td></tr>
{% for g in a.groups %}
<tr class="{{ 'drifted' if g.status == 'regression' }}"><td>{{ g.group }}</td>
<td>{{ g.people }}</td><td>{{ g.leavers }}</td><td>{{ g.recall | fmt(2) }}</td>
<td>{{ g.training_recall | fmt(2) }}</td><td>{{ g.selection_rate | fmt(2) }}</td>
<td>{{ g.training_selection_rate | fmt(2) }}</td>
<td>{{ too_few if g.status == "too_few" else g.status }}</td></tr>
{% endfor %}
{% endfor %}
</tbody></table>
{% endif %}
"""

QUALITY = """<h2>Data quality</h2>
{% if q %}
{% set c, p = q.current, q.previous %}
<p>{{ c.bad }} bad inputs of {{ c.inputs }} (share {{ c.share | fmt(3) }}; the period
before: {{ p.bad }} of {{ p.inputs }}, share {{ p.share | fmt(3) }}).
API: {{ c.refused_requests }} requests refused, {{ c.answered_requests }} answered.
Ingest: {{ c.rows_quarantined }} rows quarantined of {{ c.rows_read }} read.</p>
{% for finding in q.findings %}<p class="bad"><b>{{ finding.message }}</b></p>{% endfor %}
{% if q.top_fields %}
<table><thead><tr><th>field failing most</th><th>refused (API)</th><th>quarantined (ingest)</th>
</tr></thead><tbody>
{% for name, count in q.top_fields %}
<tr><td>{{ name }}</td><td>{{ c.refused_fields.get(name, 0) }}</td>
<td>{{ c.quarantined_fields.get(name, 0) }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
{% if q.unseen_categories %}
<p><b>Categories never seen in training:</b>
{% for name, values in q.unseen_categories.items() %}{{ name }}:
{% for value, count in values.items() %}{{ value }} ({{ count }}){{ ", " if not loop.last }}
{% endfor %}{{ "; " if not loop.last }}{% endfor %}</p>
{% endif %}
{% endif %}
"""
