"""Capacity: parsing, "at most k" thresholds with ties, the trade-off curve, the reason."""

from __future__ import annotations

import numpy as np
import pytest

from attrition.capacity import (
    CURVE_SHARES,
    Capacity,
    capacity_reason,
    capacity_threshold,
    flagged_summary,
    tradeoff_curve,
)
from attrition.errors import AttritionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.2", Capacity(share=0.2)),
        ("20%", Capacity(share=0.2)),
        (" 12.5% ", Capacity(share=0.125)),
        ("40", Capacity(count=40)),
        ("1", Capacity(count=1)),
        ("100%", Capacity(share=1.0)),
    ],
)
def test_parse_accepts_a_share_a_percentage_or_a_number(text, expected):
    assert Capacity.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["0", "-3", "1.5", "abc", "150%", "0%", "", "inf", "1e400", "nan", "nan%", "%", "1.0", "40.0",
     "0.0", "1e3", "0000000000000000", "20 %"],
)  # fmt: skip
def test_parse_refuses_other_forms_and_names_the_allowed_ones(text):
    with pytest.raises(AttritionError, match="a share of the scored people between 0 and 1"):
        Capacity.parse(text)


def test_people_rounds_down_and_never_exceeds_the_population():
    assert Capacity(share=0.2).people(1176) == 235
    assert Capacity(share=0.2).people(10) == 2
    assert Capacity(count=40).people(1176) == 40
    assert Capacity(count=40).people(12) == 12
    assert Capacity(count=40).share_of(200) == pytest.approx(0.2)
    assert (Capacity(share=0.2).label(), Capacity(share=0.125).label()) == ("20%", "12.5%")
    assert Capacity(count=40).label() == "40 people"


def test_threshold_flags_exactly_k_of_distinct_values():
    p = np.random.default_rng(0).uniform(size=1000)
    for k in (0, 1, 199, 200, 999, 1000):
        assert int((p >= capacity_threshold(p, k)).sum()) == k


def test_a_tie_across_the_boundary_is_left_out_never_added():
    p = np.array([0.9, 0.8, 0.5, 0.5, 0.5, 0.1])
    assert int((p >= capacity_threshold(p, 3)).sum()) == 2
    assert int((p >= capacity_threshold(p, 5)).sum()) == 5
    tied = np.full(10, 0.3)
    assert int((tied >= capacity_threshold(tied, 4)).sum()) == 0


def test_flagged_summary_counts_by_hand():
    y = np.array([1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.05])
    point = flagged_summary(y, p, 0.5)
    assert point["share_flagged"] == pytest.approx(0.5)
    assert point["recall"] == pytest.approx(2 / 3)
    assert point["precision"] == pytest.approx(2 / 3)
    assert point["leavers_caught"] == 2
    assert point["expected_leavers_caught"] == pytest.approx(2.4)
    halved = flagged_summary(np.tile(y, 2), np.tile(p, 2), 0.5, repeats=2)
    assert halved["flagged"] == 3 and halved["expected_leavers_caught"] == pytest.approx(2.4)


def test_curve_is_monotone_each_point_at_most_its_capacity_and_marks_the_chosen_point():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    curve = tradeoff_curve(y, p, chosen_threshold=0.5, policy="f2", repeats=2)
    assert curve["capacity"] == list(CURVE_SHARES) and len(curve["recall"]) == 100
    pairs = list(zip(curve["share_flagged"], curve["capacity"], strict=True))
    assert all(s <= c + 1e-9 for s, c in pairs)
    assert all(abs(s - c) < 0.001 for s, c in pairs)
    assert np.all(np.diff(curve["recall"]) >= 0)
    assert np.all(np.diff(curve["expected_leavers_caught"]) >= 0)
    assert curve["recall"][-1] == 1.0 and curve["population"] == 1000
    chosen = curve["chosen"]
    assert chosen["policy"] == "f2" and chosen["threshold"] == 0.5
    assert chosen["share_flagged"] == pytest.approx(float((p >= 0.5).mean()), abs=1e-6)
    # ranked by risk, the top 20% hold more than 20% of the leavers
    assert curve["recall"][19] > 0.3


def test_reason_states_the_share_flagged_and_the_leavers_caught():
    point = {"share_flagged": 0.198, "recall": 0.71, "precision": 0.6, "threshold": 0.31}
    reason = capacity_reason(Capacity(share=0.2), point, 1880)
    assert reason.startswith("capacity 20%: flags 19.8% of people, catches 71% of leavers")
    assert "out-of-fold" in reason


def test_the_setting_is_checked_when_the_settings_are_read(monkeypatch):
    from pydantic import ValidationError

    from attrition.settings import Settings

    monkeypatch.setenv("ATTRITION_CAPACITY", "40")
    assert Capacity.parse(Settings().capacity) == Capacity(count=40)
    monkeypatch.setenv("ATTRITION_CAPACITY", "lots")
    with pytest.raises(ValidationError, match="capacity 'lots' is not allowed"):
        Settings()


def test_the_documented_pattern_accepts_exactly_what_parse_accepts():
    import re

    from attrition.capacity import CAPACITY_PATTERN

    samples = ["0.2", ".5", "0.05", " 40 ", "40\n", "100%", "100.00%", "99.5%", "1.%", ".5%",
               "999999999", "1000000000", "0", "0.0", "00.5", "0%", "101%", "1e3", "20 %",
               "٤٠", "0.", "5"]  # fmt: skip
    for text in samples:
        try:
            Capacity.parse(text)
            parsed = True
        except AttritionError:
            parsed = False
        assert parsed == bool(re.search(CAPACITY_PATTERN, text)), text
