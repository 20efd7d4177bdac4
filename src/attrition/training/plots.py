"""Run plots as matplotlib Figures (object API: no pyplot state, no global backend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from matplotlib.figure import Figure
from numpy.typing import NDArray
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve


def _figure(title: str) -> tuple[Figure, Any]:
    figure = Figure(figsize=(6, 4.5), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def roc_figure(y: NDArray[Any], p: NDArray[np.float64], auc: float) -> Figure:
    figure, axes = _figure("ROC curve (holdout)")
    fpr, tpr, _ = roc_curve(y, p)
    axes.plot(fpr, tpr, label=f"model (AUC {auc:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set_xlabel("False positive rate")
    axes.set_ylabel("True positive rate")
    axes.legend(loc="lower right")
    return figure


def pr_figure(y: NDArray[Any], p: NDArray[np.float64], average_precision: float) -> Figure:
    figure, axes = _figure("Precision-recall curve (holdout)")
    precision, recall, _ = precision_recall_curve(y, p)
    axes.plot(recall, precision, label=f"model (AP {average_precision:.3f})")
    axes.axhline(float(np.mean(y)), linestyle="--", color="grey", label="base rate")
    axes.set_xlabel("Recall")
    axes.set_ylabel("Precision")
    axes.legend(loc="upper right")
    return figure


def calibration_figure(y: NDArray[Any], p: NDArray[np.float64], ece: float) -> Figure:
    figure, axes = _figure(f"Calibration (holdout, ECE {ece:.3f})")
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    axes.plot(predicted, observed, marker="o", label="model")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    axes.set_xlabel("Mean predicted probability")
    axes.set_ylabel("Observed attrition rate")
    axes.legend(loc="upper left")
    return figure


def confusion_figure(metrics: dict[str, float], threshold: float) -> Figure:
    figure, axes = _figure(f"Confusion matrix (holdout, threshold {threshold:.3f})")
    matrix = np.array([[metrics["tn"], metrics["fp"]], [metrics["fn"], metrics["tp"]]])
    axes.imshow(matrix, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(col, row, f"{int(value)}", ha="center", va="center", fontsize=14)
    axes.set_xticks([0, 1], labels=["stays (pred.)", "leaves (pred.)"])
    axes.set_yticks([0, 1], labels=["stayed", "left"])
    return figure


def importance_figure(importance: dict[str, float], top: int = 20) -> Figure:
    """Global SHAP importance: mean |contribution| per raw input column."""
    figure, axes = _figure("SHAP global importance (mean |contribution|)")
    items = sorted(importance.items(), key=lambda kv: kv[1])[-top:]
    axes.barh([k for k, _ in items], [v for _, v in items])
    axes.set_xlabel("mean |SHAP value| (model output units)")
    axes.tick_params(axis="y", labelsize=8)
    return figure


def optuna_history_figure(trials: Sequence[optuna.trial.FrozenTrial]) -> Figure:
    """Objective value per completed trial and the best value so far."""
    figure, axes = _figure("Optuna optimisation history (CV ROC-AUC)")
    done = [t for t in trials if t.value is not None]
    numbers = [t.number for t in done]
    values = [float(t.value) for t in done if t.value is not None]
    axes.scatter(numbers, values, s=14, label="trial")
    if values:
        axes.plot(numbers, np.maximum.accumulate(values), color="red", label="best so far")
    axes.set_xlabel("Trial number")
    axes.set_ylabel("Mean CV ROC-AUC")
    axes.legend(loc="lower right")
    return figure
