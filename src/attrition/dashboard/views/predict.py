"""Predict: score one employee, see why and the suggested retention levers, and try what-if
levers by hand."""

from __future__ import annotations

from typing import Any

import streamlit as st

from attrition.actions import LEVERS_NOTE
from attrition.dashboard import session
from attrition.dashboard.api.client import ApiError
from attrition.dashboard.api.responses import Prediction
from attrition.dashboard.panels.predict import (
    OPEN_SECTIONS,
    FieldSpec,
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
    form_sections,
    levers_table,
    salary_hike_range,
    scenario_figure,
)
from attrition.schema import IDENTIFIER, categories_of

RESULT = "predict.result"
SCENARIO = "predict.scenario"
COLUMNS = 3


def field_widget(spec: FieldSpec, default: Any) -> Any:
    """The input for one field, keyed ``f_<name>`` so tests and reruns find it."""
    key = f"f_{spec.name}"
    if spec.widget == "select":
        return st.selectbox(
            spec.label, spec.options, index=spec.options.index(default), key=key, help=spec.help
        )
    if spec.widget == "slider":
        return st.slider(
            spec.label, spec.low, spec.high, int(default), step=1, key=key, help=spec.help
        )
    return st.number_input(
        spec.label,
        min_value=spec.low,
        max_value=spec.high,
        value=int(default),
        step=1,
        key=key,
        help=spec.help,
    )


def employee_form() -> tuple[dict[str, Any], int | None, bool]:
    """The form: (values, employee number, submitted)."""
    defaults = default_employee()
    with st.form("employee-form"):
        number = st.number_input(
            "Employee number (optional)",
            min_value=1,
            value=None,
            step=1,
            key="f_number",
            help="Lets the workforce overview count this person once; stored pseudonymised.",
        )
        values: dict[str, Any] = {}
        for title, specs in form_sections().items():
            with st.expander(title, expanded=title in OPEN_SECTIONS):
                columns = st.columns(COLUMNS)
                for index, spec in enumerate(specs):
                    with columns[index % COLUMNS]:
                        values[spec.name] = field_widget(spec, defaults[spec.name])
        submitted = st.form_submit_button("Score employee", type="primary")
    return values, (int(number) if number is not None else None), submitted


def show_verdict(prediction: Prediction) -> None:
    label = "At risk" if prediction.at_risk else "Not at risk"
    left, middle, right = st.columns(3)
    left.metric("Attrition risk", f"{prediction.attrition_probability:.0%}")
    middle.metric("Threshold", f"{prediction.threshold:.0%}")
    right.metric("Decision", label)
    if prediction.at_risk:
        st.error(
            f"**{label}**: the risk is at or above the model's threshold. Consider a "
            "retention conversation.",
            icon=":material/warning:",
        )
    else:
        st.success(
            f"**{label}**: the risk is below the model's threshold.", icon=":material/check_circle:"
        )


def show_prediction(prediction: Prediction) -> None:
    show_verdict(prediction)
    if prediction.top_factors:
        figure = factors_figure(prediction.top_factors, "Top factors for this person")
        session.show_chart(figure, "factors-chart")
    st.caption(
        f"Model {prediction.model_name} v{prediction.model_version} - prediction "
        f"{prediction.prediction_id}. {session.DISCLAIMER}"
    )
    show_suggested_levers(prediction)


def show_suggested_levers(prediction: Prediction) -> None:
    """The changes the employer could make that lower this person's predicted risk most."""
    if prediction.levers is None:
        return
    st.subheader("Suggested levers")
    if not prediction.levers:
        st.caption("No allowed change lowers this person's predicted risk.")
        return
    st.dataframe(
        levers_table(prediction),
        hide_index=True,
        key="levers-table",
        column_config={
            "risk_after": st.column_config.NumberColumn("risk after", format="percent"),
            "drop_pp": st.column_config.NumberColumn("drop (points)", format="%.1f"),
        },
    )
    st.caption(LEVERS_NOTE)


def satisfaction_levers(base: Levers) -> tuple[str, int, int]:
    """Overtime, job and environment satisfaction, as the widgets set them."""
    overtime = categories_of("OverTime")
    chosen = st.radio(
        "Overtime", overtime, horizontal=True, key="w_overtime", index=overtime.index(base.overtime)
    )
    job = st.slider(
        "Job satisfaction", *bounds_of("JobSatisfaction"), base.job_satisfaction,
        key="w_job_satisfaction",
    )  # fmt: skip
    environment = st.slider(
        "Environment satisfaction", *bounds_of("EnvironmentSatisfaction"),
        base.environment_satisfaction, key="w_environment_satisfaction",
    )  # fmt: skip
    return str(chosen), int(job), int(environment)


def career_levers(base: Levers) -> tuple[int, bool]:
    """Salary hike and promotion, as the widgets set them."""
    hike = st.slider("Salary hike (%)", *salary_hike_range(base), base.salary_hike,
                     key="w_salary_hike")  # fmt: skip
    promote = st.checkbox(
        "Promote one job level",
        key="w_promote",
        help="Raises the job level and resets the years since the last "
        "promotion and in the current role.",
    )
    return int(hike), bool(promote)


def lever_widgets(employee: dict[str, Any]) -> Levers:
    base = current_levers(employee)
    left, right = st.columns(2)
    with left:
        overtime, job, environment = satisfaction_levers(base)
    with right:
        hike, promote = career_levers(base)
    return Levers(overtime, job, environment, hike, promote)


def what_if(employee: dict[str, Any], current: Prediction) -> None:
    st.subheader("What if?")
    st.caption(
        "Change a lever, then compare. Scenarios are scored without the employee number, "
        "so they never replace this person's own score."
    )
    levers = lever_widgets(employee)
    variant = apply_levers(employee, levers)
    changed = changes(employee, variant)
    if not st.button("Compare scenario", key="w_compare", disabled=not changed):
        if not changed:
            st.caption("Move a lever to build a scenario.")
        return
    try:
        body = {k: v for k, v in variant.items() if k != IDENTIFIER}
        st.session_state[SCENARIO] = (changed, session.client().predict(body, purpose="what-if"))
    except ApiError as error:
        session.show_error(error)


def show_scenario(current: Prediction) -> None:
    stored = st.session_state.get(SCENARIO)
    if stored is None:
        return
    changed, scenario = stored
    table = comparison_table(current, scenario)
    left, right = st.columns(2)
    with left:
        st.dataframe(
            table,
            hide_index=True,
            key="w_table",
            column_config={
                "risk": st.column_config.NumberColumn("risk", format="percent"),
                "change_pp": st.column_config.NumberColumn("change (points)", format="%+.1f"),
            },
        )
        st.caption("Changed: " + "; ".join(f"{n} {a} -> {b}" for n, a, b in changed))
    with right:
        session.show_chart(scenario_figure(current, scenario), "scenario-chart")


def score_form(values: dict[str, Any], number: int | None) -> bool:
    """Check and score the submitted form; False (the reason shown) when it cannot be."""
    problems = check_employee(values)
    if problems:
        st.error("Fix these fields first:\n\n" + "\n".join(f"- {p}" for p in problems))
        return False
    payload = employee_payload(values, number)
    try:
        with st.spinner("Scoring..."):
            prediction = session.client().predict(payload, levers=True)
    except ApiError as error:
        session.show_error(error)
        return False
    st.session_state[RESULT] = (payload, prediction)
    for key in [k for k in st.session_state if str(k).startswith("w_")] + [SCENARIO]:
        st.session_state.pop(key, None)  # levers start again from the new employee
    return True


def render() -> None:
    st.title("Predict one employee")
    st.caption(session.DISCLAIMER)
    if not session.model_ready():
        return
    values, number, submitted = employee_form()
    if submitted and not score_form(values, number):
        return
    stored = st.session_state.get(RESULT)
    if stored is None:
        st.info(
            "Fill in the form (it starts from a typical employee) and press **Score employee**.",
            icon=":material/info:",
        )
        return
    payload, prediction = stored
    show_prediction(prediction)
    what_if(payload, prediction)
    show_scenario(prediction)


if __name__ == "__main__":
    render()
