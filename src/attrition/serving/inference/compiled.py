"""The compiled fast path: the fitted pipeline as numpy array operations.

``compile_model`` reads the fitted steps of an ``AttritionModel`` (the recipe is in
``attrition.training.model``) and returns a ``CompiledScorer`` that computes, from request
rows or a DataFrame, the same calibrated probability as ``model.predict_proba`` (to 1e-6,
checked at every load) and the top factors, without a DataFrame per request:

- engineer + preprocess: raw numerics as one float matrix, ratios, logs and satisfaction
  aggregates as vector arithmetic, the scaler as ``(x - mean) / scale``, one-hot columns
  through a value -> column table;
- estimator: logistic regression as a dot product; forests, extra trees and LightGBM as
  flat tree arrays walked by a numba kernel (``attrition.serving.inference.treekernel``);
- calibrator: the sigmoid or isotonic map as array operations.

Top factors: exact for logistic regression (``coef * (z - background)`` summed to raw
columns through ``model.aggregation_``, the training explainer's own formula). For tree
models the training explainer runs TreeSHAP, too slow for every call; the kernel instead
credits each split's change of node value to the split feature (path attribution, on the
same scale: probability for forests, log-odds for LightGBM), summed to raw columns the
same way. Both decompositions add up to the prediction minus a baseline; their rankings
usually but not always agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from attrition.schema import CATEGORICAL_NAMES
from attrition.serving.inference.scoring import FactorList, Scores

EPS = 1e-6
SMALL_BATCH = 16  # up to this many rows, build z with plain Python floats


class CompileError(Exception):
    """The model has a step the compiler does not know; serve the pipeline instead."""


FloatArray = np.ndarray


def _sigmoid(values: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * values))  # the training code's formula
    return out


def _logit(scores: FloatArray) -> FloatArray:
    clipped = np.minimum(np.maximum(scores, EPS), 1.0 - EPS)  # np.clip, without its overhead
    out: FloatArray = np.log(clipped) - np.log1p(-clipped)
    return out


# --- engineer + preprocess ------------------------------------------------------------
@dataclass(frozen=True)
class _Block:
    """One one-hot encoded column: where its values go in ``z``."""

    column: str
    categorical: bool
    categories: tuple[Any, ...]
    offset: int
    positions: dict[Any, int]  # value -> absolute column in z


@dataclass(frozen=True)
class Encoder:
    """Raw rows -> the estimator's input ``z``, as array operations.

    ``X`` holds the raw numeric inputs (float64, ``numeric_inputs`` order); ``codes`` holds,
    per one-hot column, the absolute column of ``z`` that is 1 (or -1 for an unknown value).
    """

    numeric_inputs: tuple[str, ...]
    ratio_num: np.ndarray
    ratio_den: np.ndarray
    ratio_offset: np.ndarray
    log_index: np.ndarray
    satisfaction_index: np.ndarray | None
    blocks: tuple[_Block, ...]
    numeric_source: np.ndarray  # columns of the engineered matrix that feed the numeric block
    numeric_offset: int
    mean: np.ndarray | None
    scale: np.ndarray | None
    width: int
    plan: tuple[tuple[Any, ...], ...]  # how each numeric-block column is computed, per row

    def z_rows(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        """``z`` for a few rows with plain Python floats: a request of one row costs a few
        microseconds instead of a dozen numpy calls. Same IEEE operations, same numbers."""
        lookups = [(b.column, b.positions.get) for b in self.blocks]
        mean = self.mean.tolist() if self.mean is not None else None
        scale = self.scale.tolist() if self.scale is not None else None
        offset, width, plan = self.numeric_offset, self.width, self.plan
        out = []
        for row in rows:
            values = [0.0] * width
            for column, get in lookups:
                position = get(row[column])
                if position is not None:
                    values[position] = 1.0
            for j, step in enumerate(plan):
                v = _plan_value(step, row)
                if mean is not None:
                    v = v - mean[j]
                if scale is not None:
                    v = v / scale[j]
                values[offset + j] = v
            out.append(values)
        return np.array(out, dtype=np.float64).reshape(len(rows), width)

    def encode_rows(self, rows: Sequence[Mapping[str, Any]]) -> tuple[FloatArray, np.ndarray]:
        names = self.numeric_inputs
        x = np.array([[row[c] for c in names] for row in rows], dtype=np.float64)
        lookups = [(b.column, b.positions.get) for b in self.blocks]
        codes = np.array(
            [[get(row[c], -1) for c, get in lookups] for row in rows], dtype=np.int64
        ).reshape(len(rows), len(lookups))
        return x.reshape(len(rows), len(names)), codes

    def encode_frame(self, frame: pd.DataFrame) -> tuple[FloatArray, np.ndarray]:
        x = _numeric_matrix(frame, self.numeric_inputs)
        index = {name: i for i, name in enumerate(self.numeric_inputs)}
        codes = np.empty((len(frame), len(self.blocks)), dtype=np.int64)
        for j, block in enumerate(self.blocks):
            if not block.categorical and block.column in index:
                codes[:, j] = _level_codes(x[:, index[block.column]], block)
                continue
            values = frame[block.column]
            values = (
                values.astype(str) if block.categorical else pd.to_numeric(values, errors="coerce")
            )
            local = pd.Categorical(values, categories=list(block.categories)).codes.astype(np.int64)
            codes[:, j] = np.where(local >= 0, local + block.offset, -1)
        return x, codes

    def engineered(self, x: FloatArray) -> FloatArray:
        parts = [x]
        if len(self.ratio_num):
            parts.append(
                x[:, self.ratio_num] / np.maximum(x[:, self.ratio_den] + self.ratio_offset, 1.0)
            )
        if len(self.log_index):
            parts.append(np.log1p(np.maximum(x[:, self.log_index], 0.0)))
        if self.satisfaction_index is not None:
            block = x[:, self.satisfaction_index]
            parts.append(block.mean(axis=1, keepdims=True))
            parts.append((block == 1).sum(axis=1, keepdims=True).astype(np.float64))
        return np.concatenate(parts, axis=1)

    def z(self, x: FloatArray, codes: np.ndarray) -> FloatArray:
        n = x.shape[0]
        out = np.zeros((n, self.width), dtype=np.float64)
        if len(self.numeric_source):
            numeric = self.engineered(x)[:, self.numeric_source]
            if self.mean is not None:
                numeric = numeric - self.mean
            if self.scale is not None:
                numeric = numeric / self.scale
            out[:, self.numeric_offset : self.numeric_offset + numeric.shape[1]] = numeric
        if codes.shape[1]:
            flat = codes.ravel()
            rows = np.repeat(np.arange(n), codes.shape[1])
            known = flat >= 0
            out[rows[known], flat[known]] = 1.0
        return out


def _numeric_matrix(frame: pd.DataFrame, names: tuple[str, ...]) -> FloatArray:
    """The numeric inputs as one float matrix (one conversion when the columns are numeric)."""
    if not names:
        return np.zeros((len(frame), 0))
    block = frame[list(names)]
    if all(pd.api.types.is_numeric_dtype(t) for t in block.dtypes):
        return np.ascontiguousarray(block.to_numpy(dtype=np.float64))
    return np.column_stack(
        [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64) for c in names]
    )


def _level_codes(values: FloatArray, block: _Block) -> np.ndarray:
    """One-hot columns of an ordinal whose categories are levels: a lookup by position when
    the levels are consecutive integers, else through the category table."""
    levels = np.asarray(block.categories, dtype=np.float64)
    low = levels[0]
    consecutive = np.array_equal(levels, low + np.arange(len(levels)))
    if consecutive:
        position = values - low
        known = (position >= 0) & (position < len(levels)) & (position == np.floor(position))
        return np.where(known, np.nan_to_num(position).astype(np.int64) + block.offset, -1)
    local = pd.Categorical(values, categories=list(levels)).codes.astype(np.int64)
    return np.where(local >= 0, local + block.offset, -1)


def _plan_value(step: tuple[Any, ...], row: Mapping[str, Any]) -> float:
    kind = step[0]
    if kind == "raw":
        return float(row[step[1]])
    if kind == "ratio":
        return float(row[step[1]]) / max(float(row[step[2]]) + float(step[3]), 1.0)
    if kind == "log":
        return math.log1p(max(float(row[step[1]]), 0.0))
    values = [float(row[c]) for c in step[1]]
    if kind == "mean":
        total = 0.0
        for value in values:
            total += value
        return total / len(values)
    return float(sum(1 for value in values if value == 1))  # "low": count at the lowest level


def _plan(numeric: tuple[str, ...], numeric_inputs: tuple[str, ...]) -> tuple[tuple[Any, ...], ...]:
    from attrition.training.features import LOG_COLUMNS, RATIOS, SATISFACTION_COLUMNS

    ratios = {r.name: ("ratio", r.numerator, r.denominator, r.offset) for r in RATIOS}
    logs = {f"Log{c}": ("log", c) for c in LOG_COLUMNS}
    aggregates = {
        "SatisfactionMean": ("mean", SATISFACTION_COLUMNS),
        "LowSatisfactionCount": ("low", SATISFACTION_COLUMNS),
    }
    steps: list[tuple[Any, ...]] = []
    for column in numeric:
        if column in numeric_inputs:
            steps.append(("raw", column))
        else:
            steps.append(ratios.get(column) or logs.get(column) or aggregates[column])
    return tuple(steps)


def _engineered_names(
    engineer: Any, numeric_inputs: tuple[str, ...]
) -> tuple[list[str], dict[str, Any]]:
    """Column names of the engineered matrix, and the index arrays that compute them."""
    from attrition.training.features import LOG_COLUMNS, RATIOS, SATISFACTION_COLUMNS

    index = {name: i for i, name in enumerate(numeric_inputs)}
    names = list(numeric_inputs)
    spec: dict[str, Any] = {
        "ratio_num": [],
        "ratio_den": [],
        "ratio_offset": [],
        "log": [],
        "satisfaction": None,
    }
    if engineer.ratios:
        for r in RATIOS:
            spec["ratio_num"].append(index[r.numerator])
            spec["ratio_den"].append(index[r.denominator])
            spec["ratio_offset"].append(r.offset)
            names.append(r.name)
    if engineer.logs:
        spec["log"] = [index[c] for c in LOG_COLUMNS]
        names.extend(f"Log{c}" for c in LOG_COLUMNS)
    if engineer.satisfaction:
        spec["satisfaction"] = np.array([index[c] for c in SATISFACTION_COLUMNS], dtype=np.int64)
        names.extend(["SatisfactionMean", "LowSatisfactionCount"])
    return names, spec


def compile_encoder(engineer: Any, preprocess: Any, feature_names: tuple[str, ...]) -> Encoder:
    """The fitted engineer and ColumnTransformer as one array encoder."""
    if type(engineer).__name__ != "FeatureEngineer":
        raise CompileError(f"unknown engineer step {type(engineer).__name__}")
    if type(preprocess).__name__ != "ColumnTransformer":
        raise CompileError(f"unknown preprocess step {type(preprocess).__name__}")
    if tuple(engineer.feature_names) != tuple(feature_names):
        raise CompileError("engineer columns differ from the model's feature_names")
    numeric_inputs = tuple(n for n in feature_names if n not in CATEGORICAL_NAMES)
    engineered, spec = _engineered_names(engineer, numeric_inputs)
    blocks: list[_Block] = []
    numeric: tuple[str, ...] = ()
    mean = scale = None
    width = numeric_offset = 0
    for name, transformer, columns in preprocess.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        kind = transformer if isinstance(transformer, str) else type(transformer).__name__
        if kind == "FunctionTransformer" and transformer.func is None:
            kind = "passthrough"  # how a fitted ColumnTransformer stores "passthrough"
        if kind == "OneHotEncoder":
            if getattr(transformer, "drop_idx_", None) is not None:
                raise CompileError("one-hot encoders with dropped categories are not compiled")
            for column, categories in zip(columns, transformer.categories_, strict=True):
                values = tuple(categories.tolist())
                positions = {v: width + i for i, v in enumerate(values)}
                blocks.append(
                    _Block(str(column), column in CATEGORICAL_NAMES, values, width, positions)
                )
                width += len(values)
        elif kind in ("StandardScaler", "passthrough") and not numeric:
            numeric, numeric_offset = tuple(str(c) for c in columns), width
            if kind == "StandardScaler":
                if transformer.with_mean:
                    mean = np.asarray(transformer.mean_, dtype=np.float64)
                if transformer.with_std:
                    scale = np.asarray(transformer.scale_, dtype=np.float64)
            width += len(numeric)
        else:
            raise CompileError(f"unknown preprocess block {name!r} ({kind})")
    position = {n: i for i, n in enumerate(engineered)}
    missing = [c for c in numeric if c not in position]
    if missing:
        raise CompileError(f"numeric block needs unknown columns {missing}")
    return Encoder(
        numeric_inputs=numeric_inputs,
        ratio_num=np.array(spec["ratio_num"], dtype=np.int64),
        ratio_den=np.array(spec["ratio_den"], dtype=np.int64),
        ratio_offset=np.array(spec["ratio_offset"], dtype=np.float64),
        log_index=np.array(spec["log"], dtype=np.int64),
        satisfaction_index=spec["satisfaction"],
        blocks=tuple(blocks),
        numeric_source=np.array([position[c] for c in numeric], dtype=np.int64),
        numeric_offset=numeric_offset,
        mean=mean,
        scale=scale,
        width=width,
        plan=_plan(numeric, numeric_inputs),
    )


# --- estimators ----------------------------------------------------------------------
class _Linear:
    kind = "logistic"

    def __init__(self, estimator: Any, background: FloatArray | None) -> None:
        if estimator.coef_.shape[0] != 1:
            raise CompileError("only binary logistic regression is compiled")
        self.coef = np.asarray(estimator.coef_[0], dtype=np.float64)
        self.intercept = float(estimator.intercept_[0])
        self.background = background

    def score(self, z: FloatArray) -> FloatArray:
        return _sigmoid(z @ self.coef + self.intercept)

    def contributions(self, z: FloatArray) -> FloatArray:
        if self.background is None:
            raise CompileError("model has no explanation background")
        out: FloatArray = self.coef * (z - self.background)
        return out

    def both(self, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.score(z), self.contributions(z)


class _LightGBM:
    kind = "lightgbm"

    def __init__(self, estimator: Any) -> None:
        from attrition.serving.inference.treekernel import flatten_lightgbm

        dump = estimator.booster_.dump_model()
        objective = str(dump.get("objective", ""))
        if dump.get("num_class", 1) != 1 or not objective.startswith("binary"):
            raise CompileError(f"LightGBM objective {objective!r} is not compiled")
        self.sigmoid = _objective_sigmoid(objective)
        best = getattr(estimator, "best_iteration_", None)
        self.iterations = best if best and best > 0 else None
        try:
            self.trees = flatten_lightgbm(dump, estimator.n_features_in_, self.iterations)
        except ValueError as error:
            raise CompileError(str(error)) from error

    def score(self, z: FloatArray) -> FloatArray:
        return _sigmoid(self.sigmoid * self.trees.predict(z))

    def contributions(self, z: FloatArray) -> FloatArray:
        return self.sigmoid * self.trees.contributions(z)

    def both(self, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        raw, credits = self.trees.both(z)  # one walk of the trees for both
        return _sigmoid(self.sigmoid * raw), self.sigmoid * credits


def _objective_sigmoid(objective: str) -> float:
    for part in objective.split():
        if part.startswith("sigmoid:"):
            return float(part.split(":", 1)[1])
    return 1.0


class _Forest:
    kind = "forest"

    def __init__(self, estimator: Any) -> None:
        from attrition.serving.inference.treekernel import flatten_forest

        try:
            self.trees = flatten_forest(estimator.estimators_, estimator.n_features_in_)
        except ValueError as error:
            raise CompileError(str(error)) from error

    def score(self, z: FloatArray) -> FloatArray:
        return self.trees.predict(z)

    def contributions(self, z: FloatArray) -> FloatArray:
        return self.trees.contributions(z)

    def both(self, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        return self.trees.both(z)


def compile_estimator(estimator: Any, background: FloatArray | None) -> Any:
    name = type(estimator).__name__
    if name == "LogisticRegression":
        return _Linear(estimator, background)
    if name == "LGBMClassifier":
        return _LightGBM(estimator)
    if name in ("RandomForestClassifier", "ExtraTreesClassifier"):
        return _Forest(estimator)
    raise CompileError(f"unknown estimator {name}")


def compile_calibrator(calibrator: Any) -> Callable[[FloatArray], FloatArray]:
    if calibrator is None:
        return lambda s: s
    method = getattr(calibrator, "method", None)
    if method == "sigmoid":
        slope, intercept = float(calibrator.slope_), float(calibrator.intercept_)
        return lambda s: _sigmoid(slope * _logit(s) + intercept)
    if method == "isotonic":
        x, y = np.asarray(calibrator.x_thresholds_), np.asarray(calibrator.y_thresholds_)
        return lambda s: np.interp(s, x, y)
    raise CompileError(f"unknown calibrator {type(calibrator).__name__}")


# --- the scorer --------------------------------------------------------------------------
class CompiledScorer:
    """Probabilities and top factors from rows or a DataFrame, with array operations only."""

    kind = "compiled"

    def __init__(self, model: Any, feature_names: tuple[str, ...]) -> None:
        steps = model.pipeline.named_steps
        if list(steps) != ["engineer", "preprocess", "estimator"]:
            raise CompileError(f"unexpected pipeline steps {list(steps)}")
        self.feature_names = feature_names
        self.encoder = compile_encoder(steps["engineer"], steps["preprocess"], feature_names)
        self.estimator = compile_estimator(steps["estimator"], getattr(model, "background_", None))
        self.calibrate = compile_calibrator(model.calibrator)
        aggregation = getattr(model, "aggregation_", None)
        if aggregation is None or aggregation.shape != (self.encoder.width, len(feature_names)):
            raise CompileError("model has no usable aggregation_ matrix for explanations")
        self.aggregation = np.asarray(aggregation, dtype=np.float64)

    def probabilities(self, x: FloatArray, codes: np.ndarray) -> FloatArray:
        return np.asarray(self.calibrate(self.estimator.score(self.encoder.z(x, codes))))

    def _score(self, x: FloatArray, codes: np.ndarray, top_k: int) -> Scores:
        return self._score_z(self.encoder.z(x, codes), top_k)

    def _score_z(self, z: FloatArray, top_k: int) -> Scores:
        score, contributions = self.estimator.both(z)
        probabilities = np.asarray(self.calibrate(score))
        raw = contributions @ self.aggregation
        return Scores(probabilities, top_factors(raw, self.feature_names, top_k))

    def score_rows(self, rows: Sequence[Mapping[str, Any]], top_k: int) -> Scores:
        if len(rows) <= SMALL_BATCH:
            return self._score_z(self.encoder.z_rows(rows), top_k)
        return self._score(*self.encoder.encode_rows(rows), top_k)

    def score_frame(self, frame: pd.DataFrame, top_k: int) -> Scores:
        return self._score(*self.encoder.encode_frame(frame), top_k)

    def probabilities_frame(self, frame: pd.DataFrame) -> FloatArray:
        return self.probabilities(*self.encoder.encode_frame(frame))


def top_factors(contributions: FloatArray, names: tuple[str, ...], top_k: int) -> list[FactorList]:
    """Per row the ``top_k`` columns by absolute contribution (ties: schema order)."""
    k = min(top_k, contributions.shape[1])
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(contributions, order, axis=1)
    return [
        [(names[c], v) for c, v in zip(row_order.tolist(), row_values.tolist(), strict=True)]
        for row_order, row_values in zip(order, picked, strict=True)
    ]


def compile_model(model: Any, feature_names: tuple[str, ...]) -> CompiledScorer:
    """Compile a fitted ``AttritionModel``; raises ``CompileError`` for unknown parts."""
    try:
        return CompiledScorer(model, feature_names)
    except CompileError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise CompileError(f"{type(error).__name__}: {error}") from error
