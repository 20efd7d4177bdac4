"""The drift reference saved with every version: marginals and sorted scores, no rows."""

from __future__ import annotations

import numpy as np

from attrition.schema import FEATURE_NAMES
from attrition.training.pipeline import TrainingOptions, fit_and_evaluate, prepare_data
from attrition.training.reference_sample import reference_marginals

from .conftest import LOGISTIC


def test_reference_keeps_marginals_and_the_served_models_holdout_scores(dev_frame):
    options = TrainingOptions(cv_folds=3, cv_repeats=1, bootstrap_resamples=50, seed=3)
    data = prepare_data(dev_frame, options)
    evaluation = fit_and_evaluate(data, LOGISTIC, options)
    reference = reference_marginals(data, evaluation)
    assert list(reference.features) == list(FEATURE_NAMES) and reference.rows == data.rows
    assert all(m.rows == data.rows for m in reference.features.values())
    holdout = np.asarray(reference.scores["holdout"])
    assert (holdout == np.sort(evaluation.holdout_probabilities)).all()
    out_of_fold = np.asarray(reference.scores["out_of_fold"])
    assert out_of_fold.size == len(data.train) and ((out_of_fold >= 0) & (out_of_fold <= 1)).all()
