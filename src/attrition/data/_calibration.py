"""Summary figures of the real IBM HR dev file that calibrate the synthetic workforce.

Only figures live here, never rows: category shares, conditional shares, quantile knots
and correlations, and the log-odds of a risk model. They were derived once from
the development sample of the IBM HR attrition file (1,176 of its rows) as follows:

* shares: value counts divided by the group size, in the category order of
  :mod:`attrition.schema` (levels, scales and counts in ascending value order);
* quantile knots: pandas' linear-interpolation quantiles at the listed probabilities;
* correlations: Pearson correlations of normal scores (a Gaussian copula);
* ``TENURE_SHARE_QUANTILES``: YearsAtCompany / (TotalWorkingYears - 2) among people with
  two or more previous employers; ``TENURE_RATIO_QUANTILES``: each tenure field divided by
  YearsAtCompany, for YearsAtCompany >= 1, per tenure band;
* ``ATTRITION_LOG_ODDS``: an L2-regularised logistic regression (scikit-learn,
  ``C=0.3`` on standardised terms, rescaled to raw units) of Attrition == "Yes" on the
  risk terms that :mod:`attrition.data.synthetic` computes under the same names. The
  intercept is not kept: the generator solves it for the requested attrition rate.

Shares are rounded to four decimals; the generator renormalises them.
"""

from __future__ import annotations

from typing import Final

# --- organisation: JobLevel 1..5, then Department | level, JobRole | (department, level)
JOB_LEVEL_SHARES: Final[tuple[float, ...]] = (0.3605, 0.369, 0.1539, 0.0723, 0.0442)
DEPARTMENT_BY_LEVEL: Final[tuple[tuple[float, ...], ...]] = (
    (0.0566, 0.7972, 0.1462),
    (0.0253, 0.5138, 0.4608),
    (0.0166, 0.5801, 0.4033),
    (0.0235, 0.6706, 0.3059),
    (0.1154, 0.6731, 0.2115),
)
ROLE_BY_DEPARTMENT_LEVEL: Final[tuple[tuple[tuple[float, ...], ...], ...]] = (
    (
        (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    ),
    (
        (0.0, 0.0, 0.4586, 0.0, 0.0, 0.0, 0.5414, 0.0, 0.0),
        (0.287, 0.0, 0.1928, 0.0, 0.3004, 0.0, 0.2197, 0.0, 0.0),
        (0.3429, 0.0, 0.019, 0.0476, 0.3429, 0.2381, 0.0095, 0.0, 0.0),
        (0.1404, 0.0, 0.0, 0.3333, 0.1579, 0.3684, 0.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 0.5143, 0.0, 0.4857, 0.0, 0.0, 0.0),
    ),
    (
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.98, 0.02),
        (0.0, 0.0, 0.0, 0.0411, 0.0, 0.0, 0.0, 0.9589, 0.0),
        (0.0, 0.0, 0.0, 0.5769, 0.0, 0.0, 0.0, 0.4231, 0.0),
        (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    ),
)

# --- people: EducationField | Department; shares of Education 1..5, Gender, MaritalStatus
EDUCATION_FIELD_BY_DEPARTMENT: Final[tuple[tuple[float, ...], ...]] = (
    (0.4783, 0.2826, 0.0, 0.1522, 0.0435, 0.0435),
    (0.0, 0.4525, 0.0, 0.3826, 0.066, 0.0989),
    (0.0, 0.3414, 0.3468, 0.1909, 0.0403, 0.0806),
)
EDUCATION_SHARES: Final[tuple[float, ...]] = (0.1139, 0.1905, 0.3886, 0.2738, 0.0332)
GENDER_SHARES: Final[tuple[float, ...]] = (0.3971, 0.6029)
MARITAL_SHARES: Final[tuple[float, ...]] = (0.2117, 0.4719, 0.3163)

# StockOptionLevel 0..3 | MaritalStatus (single people hold no stock options)
STOCK_BY_MARITAL: Final[tuple[tuple[float, ...], ...]] = (
    (0.0241, 0.5904, 0.241, 0.1446),
    (0.2288, 0.5892, 0.1225, 0.0595),
    (1.0, 0.0, 0.0, 0.0),
)

# --- working conditions and attitudes (1..4 scales)
TRAVEL_SHARES: Final[tuple[float, ...]] = (0.1071, 0.7109, 0.182)
OVERTIME_SHARES: Final[tuple[float, ...]] = (0.7117, 0.2883)
SCALE_SHARES: Final[dict[str, tuple[float, ...]]] = {
    "EnvironmentSatisfaction": (0.1922, 0.1913, 0.3078, 0.3087),
    "JobInvolvement": (0.057, 0.2602, 0.5893, 0.0935),
    "JobSatisfaction": (0.1905, 0.1803, 0.3061, 0.3231),
    "RelationshipSatisfaction": (0.1905, 0.2117, 0.3112, 0.2866),
    "WorkLifeBalance": (0.057, 0.2236, 0.6114, 0.108),
}

# PercentSalaryHike from SALARY_HIKE_MIN; TrainingTimesLastYear from 0;
# DistanceFromHome from DISTANCE_MIN; DailyRate, HourlyRate, MonthlyRate are uniform
SALARY_HIKE_SHARES: Final[tuple[float, ...]] = (
    0.1378,
    0.1344,
    0.1505,
    0.1369,
    0.0706,
    0.051,
    0.051,
    0.051,
    0.0553,
    0.0408,
    0.0323,
    0.0425,
    0.0179,
    0.0136,
    0.0145,
)
TRAINING_SHARES: Final[tuple[float, ...]] = (0.0357, 0.0519, 0.3716, 0.3316, 0.0825, 0.0816, 0.0451)
DISTANCE_SHARES: Final[tuple[float, ...]] = (
    0.1463,
    0.1446,
    0.0544,
    0.0425,
    0.0451,
    0.0383,
    0.0595,
    0.0536,
    0.0536,
    0.0587,
    0.0213,
    0.0111,
    0.0102,
    0.0128,
    0.0162,
    0.0213,
    0.0153,
    0.0187,
    0.0162,
    0.0204,
    0.0136,
    0.0136,
    0.0179,
    0.0187,
    0.0179,
    0.0153,
    0.0077,
    0.0162,
    0.0196,
)
UNIFORM_RANGES: Final[dict[str, tuple[int, int]]] = {
    "DailyRate": (103, 1499),
    "HourlyRate": (30, 100),
    "MonthlyRate": (2094, 26997),
}

# --- pay and experience by JobLevel (quantile knots at LEVEL_QUANTILE_PROBS)
LEVEL_QUANTILE_PROBS: Final[tuple[float, ...]] = (
    0,
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    0.95,
    1,
)
INCOME_QUANTILES_BY_LEVEL: Final[tuple[tuple[float, ...], ...]] = (
    (
        1051.0,
        1800.0,
        2059.0,
        2218.0,
        2362.0,
        2520.0,
        2681.0,
        2825.0,
        3038.0,
        3423.0,
        3836.0,
        4081.0,
        4968.0,
    ),
    (
        2042.0,
        3957.0,
        4155.0,
        4446.0,
        4724.0,
        5073.0,
        5366.0,
        5677.0,
        6162.0,
        6548.0,
        6930.0,
        8742.0,
        9998.0,
    ),
    (
        5381.0,
        7314.0,
        7491.0,
        7969.0,
        8722.0,
        9582.0,
        10008.0,
        10377.0,
        10648.0,
        10934.0,
        11994.0,
        13458.0,
        13757.0,
    ),
    (
        11103.0,
        12284.0,
        13129.0,
        13502.0,
        13964.0,
        15308.0,
        16124.0,
        16614.0,
        16865.0,
        17170.0,
        17536.0,
        17662.0,
        17875.0,
    ),
    (
        18041.0,
        18187.0,
        18269.0,
        18757.0,
        19040.0,
        19151.0,
        19224.0,
        19400.0,
        19560.0,
        19664.0,
        19847.0,
        19934.0,
        19999.0,
    ),
)
EXPERIENCE_QUANTILES_BY_LEVEL: Final[tuple[tuple[float, ...], ...]] = (
    (0.0, 1.0, 1.0, 2.0, 4.0, 5.0, 6.0, 6.0, 7.1, 8.0, 10.7, 14.0, 20.0),
    (4.0, 5.0, 5.3, 7.0, 8.0, 9.0, 10.0, 10.0, 12.0, 14.0, 17.0, 19.0, 20.0),
    (9.0, 9.0, 9.0, 10.0, 10.0, 11.0, 13.0, 15.0, 16.0, 20.0, 24.0, 28.0, 40.0),
    (9.0, 14.4, 21.0, 21.0, 22.0, 23.0, 24.0, 26.0, 28.0, 30.0, 32.0, 35.6, 37.0),
    (21.0, 21.0, 21.0, 21.0, 23.0, 24.0, 25.0, 27.0, 28.7, 32.0, 33.9, 36.0, 40.0),
)
INCOME_EXPERIENCE_CORRELATION: Final[tuple[float, ...]] = (0.3, 0.0, 0.23, -0.05, 0.11)
DECILE_PROBS: Final[tuple[float, ...]] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

# --- age at the start of the working life (Age - TotalWorkingYears) | Education
START_AGE_QUANTILES_BY_EDUCATION: Final[tuple[tuple[float, ...], ...]] = (
    (18.0, 18.0, 18.0, 19.0, 20.0, 21.0, 22.0, 25.0, 27.0, 30.7, 39.0),
    (18.0, 18.0, 20.0, 21.0, 23.0, 24.5, 27.0, 29.0, 32.0, 36.0, 52.0),
    (18.0, 18.0, 19.0, 20.0, 22.0, 23.0, 25.0, 27.0, 30.0, 33.4, 52.0),
    (18.0, 19.0, 20.0, 22.0, 24.0, 26.0, 28.0, 30.0, 33.0, 37.0, 56.0),
    (18.0, 18.8, 19.0, 21.0, 22.2, 24.0, 25.8, 29.0, 31.4, 34.0, 50.0),
)
AGE_MAX: Final[int] = 60  # the oldest employee in the real file

# --- NumCompaniesWorked 0..9 | TotalWorkingYears band (bands start at these years)
EXPERIENCE_BAND_STARTS: Final[tuple[int, ...]] = (0, 1, 2, 3, 6, 11, 21)
COMPANIES_BY_EXPERIENCE_BAND: Final[tuple[tuple[float, ...], ...]] = (
    (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (0.0312, 0.9688, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (0.087, 0.913, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (0.269, 0.4345, 0.0483, 0.0552, 0.0345, 0.0138, 0.0483, 0.0345, 0.0345, 0.0276),
    (0.1549, 0.3602, 0.0785, 0.0926, 0.0885, 0.0483, 0.0523, 0.0503, 0.0282, 0.0463),
    (0.0833, 0.2065, 0.1703, 0.1594, 0.1449, 0.0616, 0.058, 0.0471, 0.0362, 0.0326),
    (0.0736, 0.1534, 0.1472, 0.1963, 0.1043, 0.0613, 0.0736, 0.0982, 0.0429, 0.0491),
)

# With one employer, YearsAtCompany == TotalWorkingYears this often (else one less)
FIRST_EMPLOYER_FULL_TENURE_SHARE: Final[float] = 0.9108
TENURE_SHARE_QUANTILES: Final[tuple[float, ...]] = (
    0.0,
    0.093,
    0.2,
    0.333,
    0.429,
    0.556,
    0.667,
    0.833,
    0.929,
    1.0,
    1.0,
)

# --- YearsInCurrentRole, YearsWithCurrManager, YearsSinceLastPromotion as shares of
# YearsAtCompany, per tenure band (bands start at these years), at DECILE_PROBS
TENURE_BAND_STARTS: Final[tuple[int, ...]] = (1, 3, 6, 11, 16)
TENURE_RATIO_QUANTILES: Final[dict[str, tuple[tuple[float, ...], ...]]] = {
    "YearsInCurrentRole": (
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        (0.0, 0.4, 0.5, 0.55, 0.6, 0.667, 0.667, 0.75, 0.75, 0.8, 0.8),
        (0.0, 0.2, 0.429, 0.667, 0.7, 0.8, 0.857, 0.875, 0.889, 1.0, 1.0),
        (0.067, 0.542, 0.636, 0.667, 0.727, 0.742, 0.794, 0.818, 0.901, 0.917, 0.933),
        (0.0, 0.234, 0.286, 0.345, 0.368, 0.4, 0.455, 0.553, 0.722, 0.789, 0.938),
    ),
    "YearsWithCurrManager": (
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0),
        (0.0, 0.292, 0.4, 0.5, 0.6, 0.667, 0.667, 0.667, 0.75, 0.8, 0.8),
        (0.0, 0.167, 0.444, 0.667, 0.714, 0.8, 0.875, 0.875, 0.9, 1.0, 1.0),
        (0.0, 0.5, 0.545, 0.615, 0.648, 0.703, 0.733, 0.796, 0.818, 0.909, 0.929),
        (0.0, 0.259, 0.292, 0.345, 0.381, 0.421, 0.45, 0.5, 0.611, 0.791, 0.944),
    ),
    "YearsSinceLastPromotion": (
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.2, 0.25, 0.333, 0.4, 0.8),
        (0.0, 0.0, 0.0, 0.0, 0.1, 0.143, 0.2, 0.5, 0.75, 0.875, 1.0),
        (0.0, 0.077, 0.143, 0.231, 0.273, 0.333, 0.364, 0.429, 0.5, 0.667, 1.0),
        (0.0, 0.05, 0.105, 0.154, 0.222, 0.375, 0.455, 0.558, 0.609, 0.65, 0.882),
    ),
}
TENURE_FIELD_MAX: Final[dict[str, int]] = {
    "YearsInCurrentRole": 18,
    "YearsWithCurrManager": 17,
    "YearsSinceLastPromotion": 15,
}
TENURE_RATIO_CORRELATION: Final[tuple[tuple[float, ...], ...]] = (
    (1.0, 0.46, 0.34),
    (0.46, 1.0, 0.31),
    (0.34, 0.31, 1.0),
)

# --- attrition risk: log-odds per unit of each risk term
ATTRITION_LOG_ODDS: Final[dict[str, float]] = {
    "overtime": 1.813,
    "travel_frequently": 1.7909,
    "travel_rarely": 0.8438,
    "single": 0.5953,
    "no_stock_options": 0.7773,
    "environment_satisfaction": -0.3854,
    "job_satisfaction": -0.368,
    "relationship_satisfaction": -0.2436,
    "job_involvement": -0.6238,
    "work_life_balance": -0.2147,
    "poor_work_life_balance": 0.7148,
    "log_monthly_income": -0.0753,
    "entry_level": 0.9711,
    "under_25": 0.2127,
    "age": -0.0245,
    "first_year_of_work": 1.1021,
    "total_working_years": -0.007,
    "first_year_at_company": 0.4228,
    "years_in_current_role": -0.035,
    "years_with_manager": -0.0131,
    "years_since_promotion": 0.1468,
    "companies_worked": 0.1774,
    "distance_from_home": 0.0422,
    "sales_representative": 0.3311,
    "laboratory_technician": 0.7332,
    "research_director": -0.9693,
    "sales_or_hr_department": 0.8043,
    "male": 0.4247,
    "trainings_last_year": -0.2047,
    "business_education": 0.8292,
}
SOURCE_ROWS: Final[int] = 1176
SOURCE_ATTRITION_RATE: Final[float] = 0.1616

SALARY_HIKE_MIN: Final = 11
DISTANCE_MIN: Final = 1
# PerformanceRating is 4 (Outstanding) exactly when PercentSalaryHike reaches this, else 3
OUTSTANDING_HIKE: Final = 20
