import pandas as pd

from attrition import schema


def test_raw_columns_match_the_real_file(dev_csv) -> None:
    header = pd.read_csv(dev_csv, nrows=0).columns
    assert tuple(header) == schema.RAW_COLUMNS


def test_features_exclude_identifier_target_and_constants() -> None:
    excluded = {schema.IDENTIFIER, schema.TARGET, *schema.CONSTANT_COLUMNS}
    assert excluded.isdisjoint(schema.FEATURE_NAMES)
    assert set(schema.FEATURE_NAMES) | excluded == set(schema.RAW_COLUMNS)


def test_protected_attributes_are_excluded_by_default() -> None:
    default = schema.model_feature_names()
    assert not set(schema.PROTECTED_ATTRIBUTES) & set(default)
    assert set(schema.model_feature_names(include_protected=True)) == set(schema.FEATURE_NAMES)


def test_real_data_fits_every_range_and_category(dev_csv) -> None:
    frame = pd.read_csv(dev_csv)
    for feature in schema.NUMERIC_FEATURES:
        assert frame[feature.name].between(feature.low, feature.high).all(), feature.name
    for feature in schema.CATEGORICAL_FEATURES:
        assert set(frame[feature.name]) <= set(feature.categories), feature.name


def test_allowed_values_message_names_the_choices() -> None:
    assert "'Travel_Rarely'" in schema.allowed_values("BusinessTravel")
    assert "from 1 to 4" in schema.allowed_values("JobSatisfaction")
