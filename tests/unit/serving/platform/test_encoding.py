"""The one JSON encoder: valid JSON for any value, never an exception."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from attrition.serving.platform.encoding import SafeJSONResponse, dumps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": math.nan, "b": math.inf, "c": -math.inf}, {"a": None, "b": None, "c": None}),
        ([2**70, -(2**70)], [str(2**70), str(-(2**70))]),
        ({1: "x", None: "y"}, {"1": "x", "null": "y"}),
        ({"n": np.float64("nan"), "i": np.int64(3)}, {"n": None, "i": 3}),
        (
            {"d": Decimal("1.5"), "t": datetime(2026, 1, 1, tzinfo=UTC)},
            {"d": "1.5", "t": "2026-01-01T00:00:00+00:00"},
        ),
        ({"b": b"\xff"}, {"b": "\ufffd"}),
    ],
)
def test_any_value_encodes_to_valid_json(value: object, expected: object) -> None:
    assert json.loads(dumps(value)) == expected


def test_deep_nesting_still_encodes() -> None:
    value: list[object] = []
    for _ in range(400):
        value = [value]
    assert json.loads(dumps(value))  # cut at a depth, never an exception


def test_the_response_class_uses_it() -> None:
    body = SafeJSONResponse({"p": math.nan, "n": 2**70}).body
    assert json.loads(body) == {"p": None, "n": str(2**70)}
