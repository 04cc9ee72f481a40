"""What a refresh's dbt build leaves out (``pipeline.refresh_build_args``)."""

from __future__ import annotations

from de06.pipeline import refresh_build_args


def test_a_refresh_leaves_out_the_unit_tests() -> None:
    assert refresh_build_args({}) == ["--exclude-resource-type", "unit_test"]


def test_the_variable_adds_to_what_is_left_out_and_is_not_replaced_by_the_flag() -> None:
    # dbt ignores DBT_EXCLUDE_RESOURCE_TYPES when the command line names any type: the two merge
    args = refresh_build_args({"DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test  seed"})
    assert args == ["--exclude-resource-type", "test", "unit_test", "seed"]
    assert refresh_build_args({"DBT_EXCLUDE_RESOURCE_TYPES": "seed,test"})[1:] == [
        "seed",
        "test",
        "unit_test",
    ]
