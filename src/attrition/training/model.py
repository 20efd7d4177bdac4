"""The model contract: ``AttritionModel``, a calibrated, explainable attrition classifier.

How raw input becomes a probability (reproducible with array operations):

1. **Columns.** Take the columns ``model.feature_names`` (raw schema columns; extra columns
   such as ``EmployeeNumber`` are ignored). Categoricals become strings, numerics float64.
2. **Engineer** (``model.pipeline["engineer"]``, see ``attrition.training.features``):
   append engineered columns, in ``engineer.get_feature_names_out()`` order: ratios
   ``numerator / max(denominator + offset, 1)`` (``features.RATIOS``), ``Log<col> =
   log1p(col)`` (``features.LOG_COLUMNS``), ``SatisfactionMean`` and
   ``LowSatisfactionCount`` over ``features.SATISFACTION_COLUMNS``. Flags ``ratios``,
   ``logs`` and ``satisfaction`` on the step say which groups are present.
3. **Preprocess** (``model.pipeline["preprocess"]``, a ColumnTransformer): the block
   ``"categorical"`` one-hot encodes its columns over the fixed category lists in
   ``encoder.categories_`` (schema categories; for ordinals the integer levels as floats),
   an unknown value gives an all-zero block; the block ``"numeric"`` is either a
   StandardScaler (``(x - mean_) / scale_``) or passthrough. Output: one-hot columns
   first, then numerics, i.e. ``z = [onehot(x_cat), scale(x_num)]``.
4. **Estimator score** ``s = estimator.predict_proba(z)[:, 1]``: for LogisticRegression
   ``s = sigmoid(coef_ @ z + intercept_)``; for forests the mean of the trees' leaf
   class frequencies; for LightGBM ``sigmoid(sum of tree outputs)``.
5. **Calibrate** ``p = model.calibrator.predict(s)`` (``ScoreCalibrator``): method
   ``"sigmoid"``: ``p = sigmoid(slope_ * logit(clip(s, EPS, 1 - EPS)) + intercept_)``;
   method ``"isotonic"``: ``p = interp(s, x_thresholds_, y_thresholds_)`` (clipped at
   both ends). Fitted on out-of-fold scores of the training split.
6. **Decide** ``at_risk = p >= model.threshold``.

``predict_proba`` returns ``[1 - p, p]``. ``explain`` returns per row the ``top_k`` raw
columns with the largest absolute contribution to the estimator's raw output (log-odds
for the logistic regression and LightGBM, probability for forests), signed (positive
raises risk). Linear contributions are exact: ``coef_ * (z - background_)`` where
``background_`` is the mean of ``z`` on the training split; LightGBM uses its native
``pred_contrib`` (TreeSHAP), forests ``shap.TreeExplainer``. Contributions of transformed
columns are summed back to raw columns through ``model.aggregation_`` (a (n_transformed,
n_raw) matrix: a one-hot or numeric column maps to its raw column with weight 1; an
engineered column splits its contribution equally between its source columns).
"""

# ruff: noqa: N803  (scikit-learn's convention names the feature matrix X)

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from attrition.training.features import FeatureEngineer, coerce_frame

EPS: Final = 1e-6
CalibrationMethod = Literal["sigmoid", "isotonic"]
FloatArray = NDArray[np.float64]


def logit(scores: FloatArray) -> FloatArray:
    """log(s / (1 - s)) with s clipped to [EPS, 1 - EPS]."""
    clipped = np.clip(np.asarray(scores, dtype=np.float64), EPS, 1.0 - EPS)
    return np.asarray(np.log(clipped) - np.log1p(-clipped), dtype=np.float64)


def sigmoid(values: FloatArray) -> FloatArray:
    """1 / (1 + exp(-v)), numerically stable."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(values))), dtype=np.float64)


class ScoreCalibrator(BaseEstimator):  # type: ignore[misc]
    """A 1-D map from the estimator's positive-class score to a calibrated probability."""

    def __init__(self, method: CalibrationMethod = "sigmoid") -> None:
        self.method = method

    def fit(self, scores: FloatArray, y: NDArray[Any]) -> ScoreCalibrator:
        labels = np.asarray(y, dtype=np.int64)
        if self.method == "sigmoid":
            platt = LogisticRegression(C=1e6, max_iter=1000)
            platt.fit(logit(scores).reshape(-1, 1), labels)
            self.slope_ = float(platt.coef_[0, 0])
            self.intercept_ = float(platt.intercept_[0])
        else:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            iso.fit(np.asarray(scores, dtype=np.float64), labels)
            self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        return self

    def predict(self, scores: FloatArray) -> FloatArray:
        if self.method == "sigmoid":
            return sigmoid(self.slope_ * logit(scores) + self.intercept_)
        return np.asarray(
            np.interp(np.asarray(scores, dtype=np.float64), self.x_thresholds_, self.y_thresholds_),
            dtype=np.float64,
        )


@dataclass(frozen=True, slots=True)
class Factor:
    """One explanation factor: a raw input column, its value, its signed contribution."""

    feature: str
    value: Any
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        value = self.value.item() if isinstance(self.value, np.generic) else self.value
        return {"feature": self.feature, "value": value, "contribution": self.contribution}


def aggregation_matrix(pipeline: Pipeline, feature_names: tuple[str, ...]) -> FloatArray:
    """(n_transformed, n_raw) weights that sum transformed contributions to raw columns."""
    engineer: FeatureEngineer = pipeline.named_steps["engineer"]
    preprocess: ColumnTransformer = pipeline.named_steps["preprocess"]
    sources = engineer.sources()
    rows: list[tuple[str, ...]] = []
    for name, transformer, columns in preprocess.transformers_:
        if name == "categorical":
            for column, categories in zip(columns, transformer.categories_, strict=True):
                rows.extend([sources[column]] * len(categories))
        elif name == "numeric":
            rows.extend(sources[column] for column in columns)
    index = {raw: i for i, raw in enumerate(feature_names)}
    matrix = np.zeros((len(rows), len(feature_names)), dtype=np.float64)
    for r, raws in enumerate(rows):
        for raw in raws:
            matrix[r, index[raw]] += 1.0 / len(raws)
    return matrix


class AttritionModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Pipeline (engineer -> preprocess -> estimator) + calibrator + decision threshold."""

    def __init__(
        self,
        pipeline: Pipeline,
        calibrator: ScoreCalibrator | None = None,
        threshold: float = 0.5,
        feature_names: tuple[str, ...] = (),
        calibration_method: CalibrationMethod = "sigmoid",
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.pipeline = pipeline
        self.calibrator = calibrator
        self.threshold = threshold
        self.feature_names = feature_names
        self.calibration_method = calibration_method
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    # --- fitting -------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: NDArray[Any]) -> AttritionModel:
        """Fit the calibrator on out-of-fold scores, then the pipeline on all rows."""
        labels = np.asarray(y, dtype=np.int64)
        cv = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.random_state)
        frame = self._select(X)
        oof = cross_val_predict(clone(self.pipeline), frame, labels, cv=cv, method="predict_proba")
        self.calibrator = ScoreCalibrator(self.calibration_method).fit(oof[:, 1], labels)
        self.pipeline = clone(self.pipeline).fit(frame, labels)
        return self.finalise(frame)

    def finalise(self, training_frame: pd.DataFrame) -> AttritionModel:
        """Compute the explanation background and aggregation from the training rows."""
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(self.feature_names)
        transformed = self.transform_features(training_frame)
        self.background_ = transformed.mean(axis=0)
        self.aggregation_ = aggregation_matrix(self.pipeline, self.feature_names)
        return self

    # --- scoring -------------------------------------------------------------------
    def _select(self, X: pd.DataFrame) -> pd.DataFrame:
        return coerce_frame(X, self.feature_names)

    def transform_features(self, X: pd.DataFrame) -> FloatArray:
        """The estimator's input matrix ``z`` for raw rows ``X``."""
        engineered = self.pipeline.named_steps["engineer"].transform(self._select(X))
        return np.asarray(
            self.pipeline.named_steps["preprocess"].transform(engineered), dtype=np.float64
        )

    def raw_scores(self, X: pd.DataFrame) -> FloatArray:
        """The estimator's uncalibrated positive-class score ``s``."""
        return np.asarray(self.pipeline.predict_proba(self._select(X))[:, 1], dtype=np.float64)

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """(n, 2) calibrated probabilities ``[1 - p, p]``."""
        assert self.calibrator is not None, "model is not fitted"
        p = self.calibrator.predict(self.raw_scores(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> NDArray[np.int64]:
        """1 (at risk) where the calibrated probability reaches the threshold, else 0."""
        return (self.predict_proba(X)[:, 1] >= self.threshold).astype(np.int64)

    # --- explanations --------------------------------------------------------------
    def contributions(self, X: pd.DataFrame) -> FloatArray:
        """(n, n_raw) signed contributions of every raw input column, per row."""
        z = self.transform_features(X)
        estimator = self.pipeline.named_steps["estimator"]
        if isinstance(estimator, LogisticRegression):
            per_column = estimator.coef_[0] * (z - self.background_)
        elif type(estimator).__name__ == "LGBMClassifier":
            per_column = np.asarray(estimator.predict_proba(z, pred_contrib=True))[:, :-1]
        else:
            per_column = self._tree_contributions(estimator, z)
        return np.asarray(per_column @ self.aggregation_, dtype=np.float64)

    def _tree_contributions(self, estimator: Any, z: FloatArray) -> FloatArray:
        explainer = getattr(self, "_explainer", None)
        if explainer is None:
            import shap

            explainer = shap.TreeExplainer(estimator)
            self._explainer = explainer
        values = np.asarray(explainer.shap_values(z, check_additivity=False))
        return np.asarray(values[:, :, 1] if values.ndim == 3 else values, dtype=np.float64)

    def explain(self, X: pd.DataFrame, top_k: int = 5) -> list[list[Factor]]:
        """Per row, the ``top_k`` raw columns with the largest absolute contribution."""
        contributions = self.contributions(X)
        raw = self._select(X)
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top_k]
        result: list[list[Factor]] = []
        for row, columns in enumerate(order):
            result.append(
                [
                    Factor(
                        feature=self.feature_names[c],
                        value=raw.iloc[row, c],
                        contribution=float(contributions[row, c]),
                    )
                    for c in columns
                ]
            )
        return result

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_explainer", None)  # rebuilt lazily; not worth pickling
        return state
