"""The drift reference without linkable rows: marginals, sorted scores, the old format."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.data.synthetic import generate_workforce
from attrition.monitoring.config import DriftConfig, PredictionDriftConfig
from attrition.monitoring.drift import detect_drift
from attrition.monitoring.profile import build_reference, columns_from_frame, feature_specs
from attrition.monitoring.reference import reference_columns
from attrition.registry.reference import (
    ReferenceMarginals,
    marginal,
    marginals_from_frame,
    marginals_from_legacy,
    sorted_scores,
)
from attrition.schema import FEATURE_NAMES


def test_a_marginal_counts_values_and_missing_ones_and_rebuilds_its_column() -> None:
    found = marginal([3, 1.0, None, 3, float("nan"), 2])
    assert (found.values, found.counts, found.missing, found.rows) == ((1, 2, 3), (1, 1, 2), 2, 6)
    assert np.isnan(found.column(categorical=False)[-2:]).all()
    assert found.column(categorical=False)[:4].tolist() == [1.0, 2.0, 3.0, 3.0]
    words = marginal(["b", "a", "", "b"])
    assert words.column(categorical=True).tolist() == ["a", "b", "b", None]
    assert sorted_scores([0.3, float("nan"), 0.1]) == (0.1, 0.3)


def test_no_row_survives_and_the_json_round_trips() -> None:
    frame = generate_workforce(300, 8)
    marginals = marginals_from_frame(frame, FEATURE_NAMES, {"holdout": np.linspace(1, 0, 60)})
    data = json.loads(json.dumps(marginals.to_dict()))
    assert ReferenceMarginals.from_dict(data) == marginals
    assert data["scores"]["holdout"] == sorted(data["scores"]["holdout"])
    assert "EmployeeNumber" not in data["features"] and "Attrition" not in data["features"]
    for name, entry in data["features"].items():  # each column on its own, values distinct
        assert entry["values"] == sorted(set(frame[name].tolist()))
        assert sum(entry["counts"]) == len(frame)
    with pytest.raises(ValueError, match="not a reference"):
        ReferenceMarginals.from_dict({**data, "format": "something else"})


def test_drift_verdicts_from_marginals_equal_those_from_the_full_rows() -> None:
    """The engine sees the same distributions: p-values, effects and verdicts are identical."""
    rows = generate_workforce(1176, 3)
    scores = np.random.default_rng(3).uniform(0, 1, len(rows))
    legacy = rows.loc[:, list(FEATURE_NAMES)].assign(
        attrition_probability=scores, reference_split="holdout"
    )
    marginals = marginals_from_legacy(legacy, FEATURE_NAMES)
    assert marginals.rows == len(rows) and len(marginals.scores["holdout"]) == len(rows)
    specs = feature_specs()
    config = DriftConfig()
    full = build_reference(columns_from_frame(rows, specs), specs, config, scores=scores)
    unlinked = build_reference(
        reference_columns(marginals, specs), specs, config,
        scores=np.asarray(marginals.scores["holdout"]),
    )  # fmt: skip
    current = generate_workforce(300, 4, scenario="overtime_surge")
    columns = columns_from_frame(current, specs)
    current_scores = np.random.default_rng(4).uniform(0, 1, len(current))
    prediction = PredictionDriftConfig()
    one, two = (
        detect_drift(ref, columns, config, prediction=prediction, scores=current_scores)
        for ref in (full, unlinked)
    )
    assert one.to_dict() == two.to_dict() and "OverTime" in one.drifted_features


def test_an_old_reference_without_a_split_gives_out_of_fold_scores() -> None:
    frame = pd.DataFrame({"Age": [30, 40], "attrition_probability": [0.2, 0.1]})
    marginals = marginals_from_legacy(frame, FEATURE_NAMES)
    assert marginals.scores == {"out_of_fold": (0.1, 0.2)} and list(marginals.features) == ["Age"]


def _version_with(config: Any, files: dict[str, Any]) -> str:
    """A registered version whose run carries ``files`` (artifact path -> frame or dict)."""
    from attrition.registry import connect, ensure_experiment

    client = connect(config)
    run = client.create_run(ensure_experiment(client, config))
    for path, content in files.items():
        if isinstance(content, pd.DataFrame):
            folder = Path(tempfile.mkdtemp())
            content.to_parquet(folder / Path(path).name, index=False)
            client.log_artifact(
                run.info.run_id, str(folder / Path(path).name), str(Path(path).parent)
            )
        else:
            client.log_dict(run.info.run_id, content, path)
    if not client.search_registered_models(f"name = '{config.model_name}'"):
        client.create_registered_model(config.model_name)
    uri = f"runs:/{run.info.run_id}/model"
    version = client.create_model_version(config.model_name, uri, run_id=run.info.run_id)
    return str(version.version)


def test_load_reference_reads_marginals_and_converts_an_old_versions_rows(config: Any) -> None:
    from attrition.registry import MARGINALS_ARTIFACT, REFERENCE_ARTIFACT, load_reference

    rows = generate_workforce(60, 2).loc[:, list(FEATURE_NAMES)]
    legacy = rows.assign(attrition_probability=np.linspace(0, 1, 60), reference_split="train")
    old = _version_with(config, {REFERENCE_ARTIFACT: legacy})
    converted = load_reference(old, config)
    assert converted == marginals_from_legacy(legacy, FEATURE_NAMES) and converted.rows == 60
    marginals = marginals_from_frame(rows, FEATURE_NAMES, {"holdout": [0.3, 0.1]})
    new = _version_with(config, {MARGINALS_ARTIFACT: marginals.to_dict()})
    assert load_reference(new, config) == marginals
