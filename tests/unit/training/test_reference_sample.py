"""The drift reference sample saved with every version."""

from __future__ import annotations

from attrition.schema import FEATURE_NAMES
from attrition.training.pipeline import TrainingOptions, fit_and_evaluate, prepare_data
from attrition.training.reference_sample import reference_frame

from .conftest import LOGISTIC


def test_reference_marks_out_of_fold_and_served_model_scores(dev_frame):
    options = TrainingOptions(cv_folds=3, cv_repeats=1, bootstrap_resamples=50, seed=3)
    data = prepare_data(dev_frame, options)
    evaluation = fit_and_evaluate(data, LOGISTIC, options)
    reference = reference_frame(data, evaluation, seed=3)
    assert list(reference.columns) == [
        *FEATURE_NAMES,
        "attrition_probability",
        "Attrition",
        "reference_split",
    ]
    holdout = reference[reference["reference_split"] == "holdout"]
    assert len(holdout) == len(data.holdout)
    assert (holdout["attrition_probability"].to_numpy() == evaluation.holdout_probabilities).all()
    train = reference[reference["reference_split"] == "train"]
    assert len(train) == len(data.train) and train["attrition_probability"].between(0, 1).all()
