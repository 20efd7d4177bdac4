"""Capacity: how many people HR can talk to, the one rule behind the ``capacity`` threshold
policy, the trade-off curve and the workforce summary's "expected leavers caught".

A capacity is a share of the scored population (``0.2`` or ``20%``) or a number of people
(``40``). A number is read against the population it is applied to: the training data's
headcount when training chooses a threshold, the scored headcount in the workforce summary.
Flagging "at most" that many means ties at the boundary are left out, never added.

Pure functions; numpy is imported inside them so importing this module stays cheap.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from attrition.errors import AttritionError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_CAPACITY: Final = "0.2"
CURVE_SHARES: Final = tuple(round(i / 100, 2) for i in range(1, 101))
# A share strictly between 0 and 1, a percentage above 0 up to 100, or 1 to 999,999,999 people.
_SHARE = r"0?\.\d*[1-9]\d*"
_FORMS: Final = rf"{_SHARE}|(?:100(?:\.0*)?|[1-9]\d?(?:\.\d*)?|{_SHARE})%|[1-9]\d{{0,8}}"
CAPACITY_PATTERN: Final = rf"^\s*(?:{_FORMS})\s*$"  # the API's documented pattern
CAPACITY_HELP: Final = (
    "a share of the scored people between 0 and 1 (0.2), a percentage (20%) "
    "or a whole number of people (40)"
)


@dataclass(frozen=True, slots=True)
class Capacity:
    """At most ``share`` of the population, or at most ``count`` people (one is set)."""

    share: float | None = None
    count: int | None = None

    @classmethod
    def parse(cls, text: str | float | int) -> Capacity:
        """``0.2``, ``20%`` or ``40`` (surrounding blanks ignored); a clear error naming
        the allowed forms otherwise. Exactly the strings :data:`CAPACITY_PATTERN` matches."""
        raw = str(text).strip()
        if not re.fullmatch(_FORMS, raw):
            raise AttritionError(f"capacity {raw!r} is not allowed; use {CAPACITY_HELP}")
        if raw.endswith("%"):
            return cls(share=float(raw[:-1]) / 100.0)
        if "." in raw:
            return cls(share=float(raw))
        return cls(count=int(raw))

    def people(self, population: int) -> int:
        """How many of ``population`` may be flagged (rounded down, at most everyone)."""
        if self.count is not None:
            return min(self.count, population)
        return min(population, math.floor((self.share or 0.0) * population + 1e-9))

    def share_of(self, population: int) -> float:
        """The capacity as a share of ``population``."""
        if self.share is not None:
            return self.share
        return min(1.0, (self.count or 0) / max(population, 1))

    def label(self) -> str:
        """``20%`` or ``40 people``."""
        if self.share is None:
            return f"{self.count} people"
        whole = round(self.share * 100, 6).is_integer()
        return f"{self.share:.0%}" if whole else f"{self.share:.1%}"


def capacity_threshold(p: NDArray[np.float64], k: int) -> float:
    """A threshold that flags (``p >= threshold``) at most ``k`` of ``p``, as many as ties
    allow: halfway between the last value flagged and the next lower one."""
    import numpy as np

    ordered = np.sort(np.asarray(p, dtype=np.float64))[::-1]  # highest first
    if len(ordered) == 0:
        return 1.0
    if k <= 0:
        return float(np.nextafter(ordered[0], np.inf))
    if k >= len(ordered):
        return float(ordered[-1])
    last, following = ordered[k - 1], ordered[k]
    if following < last:
        return float((last + following) / 2.0)
    higher = ordered[ordered > last]  # a tie straddles the boundary: leave it out
    if len(higher) == 0:
        return float(np.nextafter(last, np.inf))
    return float((higher[-1] + last) / 2.0)


def flagged_summary(
    y: NDArray[Any], p: NDArray[np.float64], threshold: float, repeats: int = 1
) -> dict[str, float]:
    """What flagging ``p >= threshold`` does: share flagged, people flagged, leavers
    caught (count and share), precision and expected leavers caught (sum of the calibrated
    probabilities of the flagged); counts per population (divided by ``repeats`` when
    ``y``/``p`` stack several repeats of the same people)."""
    import numpy as np

    labels = np.asarray(y, dtype=np.int64)
    probs = np.asarray(p, dtype=np.float64)
    flagged = probs >= threshold
    caught = int((flagged & (labels == 1)).sum())
    leavers, n_flagged = int(labels.sum()), int(flagged.sum())
    return {
        "threshold": float(threshold),
        "share_flagged": n_flagged / max(len(probs), 1),
        "flagged": n_flagged / repeats,
        "recall": caught / leavers if leavers else 0.0,
        "precision": caught / n_flagged if n_flagged else 0.0,
        "leavers_caught": caught / repeats,
        "expected_leavers_caught": float(probs[flagged].sum()) / repeats,
    }


CURVE_KEYS: Final = (
    "share_flagged", "flagged", "recall", "precision", "leavers_caught",
    "expected_leavers_caught", "threshold",
)  # fmt: skip


def tradeoff_curve(
    y: NDArray[Any],
    p: NDArray[np.float64],
    *,
    chosen_threshold: float,
    policy: str,
    repeats: int = 1,
    basis: str = "out-of-fold",
) -> dict[str, Any]:
    """Share flagged -> share of leavers caught, precision, expected leavers caught, at
    capacities of 1% to 100% (each flagging at most that share), plus the chosen point."""
    import numpy as np

    labels = np.asarray(y, dtype=np.int64)
    probs = np.asarray(p, dtype=np.float64)
    columns: dict[str, list[float]] = {key: [] for key in CURVE_KEYS}
    for share in CURVE_SHARES:
        threshold = capacity_threshold(probs, Capacity(share=share).people(len(probs)))
        point = flagged_summary(labels, probs, threshold, repeats)
        for key in CURVE_KEYS:
            columns[key].append(round(point[key], 6))
    chosen = flagged_summary(labels, probs, chosen_threshold, repeats)
    return {
        "basis": basis,
        "population": len(probs) // repeats,
        "leavers": int(labels.sum()) // repeats,
        "repeats": repeats,
        "capacity": list(CURVE_SHARES),
        **columns,
        "chosen": {"policy": policy, **{k: round(v, 6) for k, v in chosen.items()}},
    }


def capacity_reason(capacity: Capacity, point: dict[str, float], n: int) -> str:
    """The run's recorded reason: the share flagged and the leavers caught."""
    return (
        f"capacity {capacity.label()}: flags {point['share_flagged']:.1%} of people, catches "
        f"{point['recall']:.0%} of leavers at precision {point['precision']:.0%} "
        f"(out-of-fold; threshold {point['threshold']:.3f} on {n} out-of-fold calibrated "
        "predictions)"
    )
