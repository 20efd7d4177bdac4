"""The ranked action list's rules: the capacity count, ranking by score alone, the text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from attrition.actions import (
    ACTION_COLUMNS,
    NO_LEVER,
    lever_text,
    ranked,
    risk_after,
)
from attrition.schema import LEVERS


def test_ranked_by_score_alone_whatever_the_protected_attributes() -> None:
    frame = pd.DataFrame(
        {
            "EmployeeNumber": [5, 3, 9, 1, 7],
            "attrition_probability": [0.2, 0.9, 0.5, 0.5, 0.1],
            "Gender": ["Female", "Male", "Female", "Male", "Female"],
            "Age": [25, 60, 33, 41, 19],
        }
    )
    top = ranked(frame, 3)
    assert top["EmployeeNumber"].tolist() == [3, 1, 9]  # ties by employee number
    assert top["rank"].tolist() == [1, 2, 3]
    swapped = frame.assign(Gender=frame["Gender"][::-1].to_numpy(), Age=frame["Age"] * 2)
    assert ranked(swapped, 3)["EmployeeNumber"].tolist() == [3, 1, 9]
    assert ranked(frame.sample(frac=1, random_state=1), 3)["EmployeeNumber"].tolist() == [3, 1, 9]


def test_lever_text() -> None:
    lever = {
        "changes": [
            {"feature": "OverTime", "value": "Yes", "new_value": "No", "action": "end overtime"},
            {"feature": "StockOptionLevel", "value": 0, "new_value": 1, "action": "grant options"},
        ],
        "attrition_probability": 0.12,
    }
    assert lever_text(lever) == (
        "end overtime (OverTime Yes -> No) + grant options (StockOptionLevel 0 -> 1)"
    )
    assert risk_after(lever) == 0.12
    assert lever_text(None) == NO_LEVER and risk_after(None) is None


def _table_names(heading: str) -> list[str]:
    """The first cell's code name of each row of the first table under ``heading``."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "reference.md").read_text()
    section = text.split(heading + "\n", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = []
    for line in rows:
        first = line.split("|")[1]
        names.append(first.strip().split("`")[1])
    return names


def test_the_reference_documents_the_action_list_and_every_lever() -> None:
    assert _table_names("### Action list of `attrition predict --top`") == list(ACTION_COLUMNS)
    assert _table_names("### Retention levers") == [lever.feature for lever in LEVERS]
