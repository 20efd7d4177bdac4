"""The schema-driven form and the what-if levers."""

from __future__ import annotations

import pandas as pd

from attrition.dashboard.api.responses import Factor, Prediction
from attrition.dashboard.panels.predict import (
    Levers,
    apply_levers,
    bounds_of,
    changes,
    check_employee,
    comparison_table,
    current_levers,
    default_employee,
    employee_payload,
    factors_figure,
    field_spec,
    form_sections,
    label_of,
    salary_hike_range,
    scenario_figure,
    typical_employee,
)
from attrition.schema import FEATURE_NAMES, FEATURES, IDENTIFIER, TENURE_ORDER


def test_every_feature_once_with_schema_bounds() -> None:
    names = [spec.name for specs in form_sections().values() for spec in specs]
    assert sorted(names) == sorted(FEATURE_NAMES)
    overtime, age, level = field_spec("OverTime"), field_spec("Age"), field_spec("JobLevel")
    assert overtime.widget == "select" and overtime.options == ("No", "Yes")
    assert (age.widget, age.low, age.high) == ("number", 18, 80)
    assert level.widget == "slider"
    assert label_of("YearsWithCurrManager") == "Years with current manager"


def test_default_is_a_valid_typical_employee() -> None:
    employee = default_employee()
    assert set(employee) == set(FEATURE_NAMES)
    assert check_employee(employee) == []
    assert employee["OverTime"] == "No"  # most employees do not work overtime


def test_typical_employee_is_consistent_on_real_rows(dev_csv: object) -> None:
    frame = pd.read_csv(str(dev_csv))
    employee = typical_employee(frame)
    assert check_employee(employee) == []
    assert employee["Department"] == frame["Department"].mode().iloc[0]
    same_role = frame[frame["JobRole"] == employee["JobRole"]]
    assert (same_role["Department"] == employee["Department"]).all()
    assert employee["DistanceFromHome"] == round(same_role["DistanceFromHome"].median())
    for smaller, larger in TENURE_ORDER:
        assert employee[smaller] <= employee[larger]


def test_check_names_fields_and_allowed_values() -> None:
    employee = default_employee() | {"OverTime": "Maybe", "Age": 12, "YearsAtCompany": 70}
    problems = check_employee(employee)
    assert "OverTime: 'Maybe' is not one of No, Yes" in problems
    assert "Age: 12 is not an integer from 18 to 80" in problems
    assert any(p.startswith("YearsAtCompany: 70 is not an integer from 0 to 60") for p in problems)
    assert employee_payload(default_employee(), 7)[IDENTIFIER] == 7
    assert IDENTIFIER not in employee_payload(default_employee(), None)


def test_levers_change_only_what_they_say() -> None:
    employee = default_employee() | {
        "JobLevel": 5,
        "YearsSinceLastPromotion": 3,
        "YearsInCurrentRole": 3,
        "OverTime": "Yes",
    }
    base = current_levers(employee)
    assert apply_levers(employee, base) == employee
    variant = apply_levers(employee, Levers("No", 4, 4, 200, promote=True))
    assert variant["OverTime"] == "No" and variant["PercentSalaryHike"] == 100
    assert variant["JobLevel"] == 5  # already at the top level
    assert variant["YearsSinceLastPromotion"] == 0 and variant["YearsInCurrentRole"] == 0
    changed = {name for name, _, _ in changes(employee, variant)}
    assert changed <= {
        "OverTime",
        "JobSatisfaction",
        "EnvironmentSatisfaction",
        "PercentSalaryHike",
        "YearsSinceLastPromotion",
        "YearsInCurrentRole",
    }
    assert "OverTime" in changed
    assert set(variant) == set(FEATURES)


def test_salary_hike_slider_stays_inside_the_schema() -> None:
    low, high = bounds_of("PercentSalaryHike")
    assert salary_hike_range(Levers("No", 3, 3, 12)) == (low, 30)
    assert salary_hike_range(Levers("No", 3, 3, 25)) == (low, min(high, 35))
    assert salary_hike_range(Levers("No", 3, 3, high)) == (low, high)


def test_comparison_table_points() -> None:
    def p(value: float) -> Prediction:
        return Prediction(
            prediction_id="x",
            attrition_probability=value,
            at_risk=value >= 0.4,
            threshold=0.4,
            model_name="m",
            model_version="1",
        )

    table = comparison_table(p(0.55), p(0.25))
    assert list(table["at_risk"]) == ["at risk", "not at risk"]
    assert abs(table.loc[1, "change_pp"] + 30) < 1e-9


def test_factor_and_scenario_figures() -> None:
    factors = [Factor(feature="OverTime", value="Yes", contribution=0.8),
               Factor(feature="Age", value=None, contribution=-0.2)]  # fmt: skip
    bars = factors_figure(factors).data[0]
    assert list(bars.y) == ["Age", "OverTime = Yes"]  # largest effect at the top
    assert list(bars.marker.color) == ["#27ae60", "#c0392b"]  # lowers green, raises red
    current, scenario = (
        Prediction(prediction_id=i, attrition_probability=v, at_risk=v >= 0.4, threshold=0.4,
                   model_name="m", model_version="1")
        for i, v in (("a", 0.55), ("b", 0.25))
    )  # fmt: skip
    assert list(scenario_figure(current, scenario).data[0].y) == [0.55, 0.25]


def test_check_applies_the_apis_cross_field_rules() -> None:
    employee = default_employee() | {"Age": 18, "TotalWorkingYears": 40, "YearsAtCompany": 1}
    employee |= {"YearsInCurrentRole": 0, "YearsSinceLastPromotion": 0, "YearsWithCurrManager": 0}
    (problem,) = check_employee(employee)
    assert problem.startswith("TotalWorkingYears: ") and "Age" in problem


def test_levers_table_lists_the_apis_levers_in_order() -> None:
    from attrition.dashboard.api.responses import Lever, LeverChange
    from attrition.dashboard.panels.predict import levers_table

    def change(feature: str, value: object, new: object) -> LeverChange:
        return LeverChange(feature=feature, value=value, new_value=new, action=f"move {feature}")

    overtime = change("OverTime", "Yes", "No")
    travel = change("BusinessTravel", "Travel_Frequently", "Travel_Rarely")
    prediction = Prediction(
        prediction_id="p",
        attrition_probability=0.5,
        at_risk=True,
        threshold=0.3,
        model_name="m",
        model_version="1",
        levers=[
            Lever(changes=[overtime], attrition_probability=0.2, risk_reduction=0.3),
            Lever(changes=[travel], attrition_probability=0.4, risk_reduction=0.1),
            Lever(changes=[overtime, travel], attrition_probability=0.1, risk_reduction=0.4),
        ],
    )
    table = levers_table(prediction)
    assert table["change"].tolist() == [
        "move OverTime (OverTime Yes -> No)",
        "move BusinessTravel (BusinessTravel Travel_Frequently -> Travel_Rarely)",
        "move OverTime (OverTime Yes -> No) + move BusinessTravel (BusinessTravel "
        "Travel_Frequently -> Travel_Rarely)",
    ]
    assert table["risk_after"].tolist() == [0.2, 0.4, 0.1]
    assert table["drop_pp"].tolist() == [30.0, 10.0, 40.0]
    assert levers_table(prediction.model_copy(update={"levers": None})).empty
