"""Reading columns and summarising the reference sample of the drift engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.profile import (
    FeatureSpec,
    build_reference,
    columns_from_frame,
    encode_categories,
    feature_specs,
    row_count,
)

CONFIG = DriftConfig()
NUM = FeatureSpec("x", categorical=False)
CAT = FeatureSpec("c", categorical=True, categories=("a", "b", "c"))
ORD = FeatureSpec("s", categorical=False, ordinal=True)


def test_feature_specs_follow_the_schema() -> None:
    specs = {s.name: s for s in feature_specs()}
    assert len(specs) == 30
    assert specs["OverTime"].categorical and specs["OverTime"].categories == ("No", "Yes")
    assert specs["JobSatisfaction"].ordinal and not specs["MonthlyIncome"].ordinal
    with pytest.raises(AttritionError, match="unknown feature"):
        feature_specs(["Salary"])


def test_columns_from_frame_reads_numbers_and_strings() -> None:
    frame = pd.DataFrame({"x": [1, None, 3], "c": ["a", None, "b"]})
    columns = columns_from_frame(frame, [NUM, CAT])
    assert np.isnan(columns["x"][1]) and columns["x"].dtype == np.float64
    assert columns["c"].tolist() == ["a", None, "b"]
    with pytest.raises(AttritionError, match="must hold numbers"):
        columns_from_frame(pd.DataFrame({"x": ["a"], "c": ["a"]}), [NUM, CAT])


def test_each_feature_is_summarised_by_its_kind() -> None:
    rng = np.random.default_rng(3)
    columns = {
        "x": rng.normal(0, 1, 200),
        "c": np.array(["a", "b", "zz", None] * 50, dtype=object),
        "s": rng.choice([1.0, 2.0, 3.0, 4.0], 200),
    }
    profile = build_reference(columns, [NUM, CAT, ORD], CONFIG, scores=rng.random(200))
    kinds = {f.name: f.kind for f in profile.features}
    assert kinds == {"x": "numeric", "c": "categorical", "s": "discrete"}
    categorical = profile.features[1]
    assert categorical.levels == ("a", "b", "c", "zz") and categorical.missing == 50
    assert profile.scores is not None and profile.scores.rows == 200
    with pytest.raises(AttritionError, match="at least 30"):
        build_reference({"x": np.arange(5.0)}, [NUM], CONFIG)


def test_categories_become_codes_with_missing_and_unseen_counted() -> None:
    codes, missing, unseen = encode_categories(["b", "", None, "q", "a"], ("a", "b"))
    assert codes.tolist() == [1, -1, -1, -2, 0] and missing == 2 and unseen == {"q": 1}
    assert row_count({"x": [1, 2], "c": ["a", "b"]}, [NUM, CAT], "current") == 2
