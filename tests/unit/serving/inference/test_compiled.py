"""The compiled fast path reproduces the scikit-learn pipeline on the real dev data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.schema import model_feature_names
from attrition.serving.inference.compiled import CompileError, compile_model
from attrition.serving.inference.model_service import build_scorer
from attrition.serving.inference.scoring import PipelineScorer

from ..conftest import support

CASES = [
    ("logistic", "numeric", True, "sigmoid"),
    ("logistic", "onehot", True, "isotonic"),
    ("forest", "numeric", False, "isotonic"),
    ("extra_trees", "onehot", True, "sigmoid"),
    ("lightgbm", "numeric", False, "sigmoid"),
]


@pytest.fixture(scope="module", params=CASES, ids=["-".join(map(str, c)) for c in CASES])
def fitted(request: pytest.FixtureRequest, dev_frame: pd.DataFrame) -> Any:
    kind, encoding, scale, calibration = request.param
    return support.fit_model(
        dev_frame, kind, ordinal_encoding=encoding, scale=scale, calibration=calibration
    )


def test_probabilities_equal_the_pipeline_on_every_dev_row(
    fitted: Any, dev_frame: pd.DataFrame
) -> None:
    names = model_feature_names()
    compiled = compile_model(fitted, names)
    expected = fitted.predict_proba(dev_frame)[:, 1]
    from_frame = compiled.probabilities_frame(dev_frame)
    from_rows = compiled.score_rows(dev_frame.to_dict("records"), top_k=5).probabilities
    assert np.abs(from_frame - expected).max() <= 1e-6
    assert np.abs(from_rows - expected).max() <= 1e-6
    one = compiled.score_rows([dev_frame.iloc[11].to_dict()], top_k=5).probabilities
    assert abs(one[0] - expected[11]) <= 1e-6


def test_top_factors(fitted: Any, dev_frame: pd.DataFrame) -> None:
    names = model_feature_names()
    compiled = compile_model(fitted, names)
    rows = dev_frame.iloc[:40]
    scores = compiled.score_frame(rows, top_k=5)
    assert all(len(f) == 5 and {n for n, _ in f} <= set(names) for f in scores.factors)
    for factors in scores.factors:
        magnitudes = [abs(c) for _, c in factors]
        assert magnitudes == sorted(magnitudes, reverse=True)
    estimator = type(fitted.pipeline.named_steps["estimator"]).__name__
    if estimator == "LogisticRegression":  # exactly the training explainer's contributions
        reference = fitted.explain(rows, top_k=5)
        for mine, theirs in zip(scores.factors, reference, strict=True):
            assert [n for n, _ in mine] == [f.feature for f in theirs]
            assert [c for _, c in mine] == pytest.approx([f.contribution for f in theirs])
    else:  # path attribution: credits sum to the score minus the root value
        z = compiled.encoder.z(*compiled.encoder.encode_frame(rows))
        total = compiled.estimator.contributions(z).sum(axis=1)
        trees = compiled.estimator.trees
        raw = trees.predict(z)
        root = trees.value[trees.roots].sum() * (1 / len(trees.roots) if trees.average else 1)
        scale = getattr(compiled.estimator, "sigmoid", 1.0)
        assert total == pytest.approx(scale * (raw - root), abs=1e-9)


def test_load_time_check_falls_back_to_the_pipeline_for_unknown_models(
    dev_frame: pd.DataFrame, fitted: Any
) -> None:
    import copy

    strange = copy.deepcopy(fitted)
    strange.calibrator.method = "beta"  # a calibrator the compiler does not know
    with pytest.raises(CompileError):
        compile_model(strange, model_feature_names())
    scorer = build_scorer(fitted, model_feature_names())
    assert scorer.kind == "compiled"


def test_pipeline_scorer_is_the_reference(fitted: Any, dev_frame: pd.DataFrame) -> None:
    names = model_feature_names()
    reference = PipelineScorer(fitted, names).score_frame(dev_frame.iloc[:5], top_k=3)
    assert reference.probabilities == pytest.approx(fitted.predict_proba(dev_frame.iloc[:5])[:, 1])
    assert all(len(f) == 3 for f in reference.factors)
