"""Fitted models on the real dev data, shared by the training unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.schema import model_feature_names
from attrition.training.model import AttritionModel
from attrition.training.pipeline import labels_of
from attrition.training.search import build_pipeline

LOGISTIC = {
    "family": "logistic_regression",
    "columns": "all",
    "ratios": True,
    "logs": True,
    "satisfaction": True,
    "ordinal_encoding": "onehot",
    "lr_C": 0.3,
    "lr_penalty": "l2",
    "lr_balanced": False,
}
LIGHTGBM = {
    "family": "lightgbm",
    "columns": "core",
    "ratios": True,
    "logs": True,
    "satisfaction": True,
    "ordinal_encoding": "numeric",
    "lgb_n_estimators": 60,
    "lgb_learning_rate": 0.05,
    "lgb_num_leaves": 7,
    "lgb_min_child_samples": 20,
    "lgb_subsample": 0.8,
    "lgb_colsample_bytree": 0.5,
    "lgb_reg_lambda": 1.0,
}
FOREST = {
    "family": "forest",
    "columns": "all",
    "ratios": False,
    "logs": False,
    "satisfaction": False,
    "ordinal_encoding": "numeric",
    "forest_kind": "extra_trees",
    "forest_n_estimators": 50,
    "forest_max_depth": 6,
    "forest_min_samples_leaf": 5,
    "forest_max_features": 0.4,
    "forest_balanced": True,
}


@pytest.fixture(scope="session")
def dev_frame(dev_csv: Path) -> pd.DataFrame:
    return pd.read_csv(dev_csv)


@pytest.fixture(scope="session")
def dev_labels(dev_frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    return labels_of(dev_frame)


def fit_model(
    params: dict[str, Any], frame: pd.DataFrame, y: np.ndarray[Any, Any]
) -> AttritionModel:
    allowed = model_feature_names()
    pipeline = build_pipeline(params, allowed, seed=0)
    features = pipeline.named_steps["engineer"].feature_names
    model = AttritionModel(pipeline, threshold=0.3, feature_names=features, calibration_folds=3)
    return model.fit(frame, y)


@pytest.fixture(scope="session")
def logistic_model(dev_frame: pd.DataFrame, dev_labels: np.ndarray[Any, Any]) -> AttritionModel:
    return fit_model(LOGISTIC, dev_frame, dev_labels)


@pytest.fixture(scope="session")
def lightgbm_model(dev_frame: pd.DataFrame, dev_labels: np.ndarray[Any, Any]) -> AttritionModel:
    return fit_model(LIGHTGBM, dev_frame, dev_labels)


@pytest.fixture(scope="session")
def forest_model(dev_frame: pd.DataFrame, dev_labels: np.ndarray[Any, Any]) -> AttritionModel:
    return fit_model(FOREST, dev_frame, dev_labels)
