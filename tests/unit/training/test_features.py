"""Engineered features and preprocessing built from the schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attrition.errors import AttritionError
from attrition.schema import PROTECTED_ATTRIBUTES, model_feature_names
from attrition.training.features import (
    WEAK_COLUMNS,
    FeatureEngineer,
    build_preprocessor,
    engineered_sources,
    select_columns,
    split_columns,
)


def test_engineered_columns_follow_their_formulas(dev_frame):
    engineer = FeatureEngineer(model_feature_names()).fit(dev_frame)
    out = engineer.transform(dev_frame)
    assert list(out.columns) == list(engineer.get_feature_names_out())
    np.testing.assert_allclose(
        out["TenureRatio"], dev_frame["YearsAtCompany"] / (dev_frame["TotalWorkingYears"] + 1)
    )
    np.testing.assert_allclose(
        out["IncomePerLevel"], dev_frame["MonthlyIncome"] / dev_frame["JobLevel"]
    )
    np.testing.assert_allclose(out["LogMonthlyIncome"], np.log1p(dev_frame["MonthlyIncome"]))
    satisfaction = dev_frame[
        [
            "EnvironmentSatisfaction",
            "JobSatisfaction",
            "RelationshipSatisfaction",
            "WorkLifeBalance",
            "JobInvolvement",
        ]
    ]
    np.testing.assert_allclose(out["LowSatisfactionCount"], (satisfaction == 1).sum(axis=1))


def test_ratio_denominators_never_divide_by_zero():
    frame = pd.DataFrame({name: [0] for name in model_feature_names()})
    frame[["BusinessTravel", "Department", "EducationField", "JobRole", "OverTime"]] = [
        ["Non-Travel", "Sales", "Medical", "Manager", "No"]
    ]
    out = FeatureEngineer(model_feature_names()).fit(frame).transform(frame)
    assert np.isfinite(out.select_dtypes("number").to_numpy()).all()


def test_no_engineered_column_uses_a_protected_or_weak_column():
    used = {c for sources in engineered_sources().values() for c in sources}
    assert not used & set(PROTECTED_ATTRIBUTES)
    assert not used & set(WEAK_COLUMNS)


def test_column_sets():
    features = model_feature_names()
    assert select_columns(features, "all") == features
    core = select_columns(features, "core")
    assert set(features) - set(core) == set(WEAK_COLUMNS)
    with pytest.raises(ValueError, match="core"):
        select_columns(features, "some")


def test_missing_column_is_named():
    with pytest.raises(AttritionError, match="MonthlyIncome"):
        FeatureEngineer(("MonthlyIncome",)).fit(None).transform(pd.DataFrame({"Age": [30]}))


@pytest.mark.parametrize("encoding", ["onehot", "numeric"])
def test_preprocessor_uses_schema_categories(encoding, dev_frame):
    engineer = FeatureEngineer(model_feature_names(), ratios=False, logs=False, satisfaction=False)
    onehot, numeric = split_columns(engineer, encoding)
    assert "OverTime" in onehot and "MonthlyIncome" in numeric
    assert ("JobLevel" in onehot) == (encoding == "onehot")
    preprocess = build_preprocessor(engineer, ordinal_encoding=encoding, scale=True)
    matrix = preprocess.fit_transform(engineer.fit(dev_frame).transform(dev_frame))
    width = sum(len(c) for c in preprocess.named_transformers_["categorical"].categories_)
    assert matrix.shape == (len(dev_frame), width + len(numeric))
    np.testing.assert_allclose(matrix[:, width:].mean(axis=0), 0.0, atol=1e-9)
