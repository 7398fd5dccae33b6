"""The settings-selection procedure and leave-one-system-out scoring, on hand-made GA tables."""

from __future__ import annotations

import inspect

import pytest
from pydantic import ValidationError

from aiops.detectors.config import LogMinerConfig
from aiops.logmining.miner import TemplateMiner
from aiops_eval.loghub_selection import (
    GRID,
    candidates,
    configured_settings,
    default_settings,
    leave_one_system_out,
    select,
)


def _row(**ga: float) -> dict[str, dict[str, float]]:
    return {name: {"original": value, "corrected": value} for name, value in ga.items()}


def test_candidates_cover_the_grid_with_the_defaults_first() -> None:
    settings = candidates()
    assert settings[0] == default_settings()
    expected = 1
    for values in GRID.values():
        expected *= len(values)
    assert len(settings) == expected
    assert len({tuple(sorted(s.items())) for s in settings}) == expected


def test_select_takes_the_best_mean_and_the_earliest_on_ties() -> None:
    table = [_row(a=0.9, b=0.5), _row(a=0.6, b=0.9), _row(a=0.9, b=0.5)]
    assert select(table, ["a", "b"]) == 1
    assert select(table, ["a"]) == 0


def test_loso_chooses_without_the_held_out_system() -> None:
    # candidate 0 is best on a and b, candidate 1 only on c: held out, c must get candidate 0's score
    table = [_row(a=1.0, b=1.0, c=0.2), _row(a=0.5, b=0.5, c=1.0)]
    settings = [{"similarity_threshold": 0.8}, {"similarity_threshold": 0.9}]
    report = leave_one_system_out(table, settings)
    assert report["systems"]["c"]["settings"] == settings[0]
    assert report["systems"]["c"]["grouping_accuracy"]["original"] == 0.2
    assert report["systems"]["a"]["settings"] == settings[1]  # b and c together favour candidate 1
    assert report["systems"]["a"]["grouping_accuracy"]["original"] == 0.5
    assert abs(report["mean_grouping_accuracy"]["original"] - (0.5 + 0.5 + 0.2) / 3) < 1e-4
    assert report["selected_on_all"] == settings[0]
    assert abs(report["in_sample_mean_grouping_accuracy"]["original"] - 0.7333) < 1e-4


def test_loso_is_lower_than_in_sample_when_each_system_wants_its_own_setting() -> None:
    table = [_row(a=1.0, b=0.0, c=0.0), _row(a=0.0, b=1.0, c=0.0), _row(a=0.0, b=0.0, c=1.0)]
    report = leave_one_system_out(table, [{"n": 0}, {"n": 1}, {"n": 2}])
    assert report["mean_grouping_accuracy"]["original"] == 0.0
    assert report["in_sample_mean_grouping_accuracy"]["original"] > 0.3


def test_the_service_and_the_eval_share_the_miners_defaults() -> None:
    # the config's miner settings are TemplateMiner's own defaults, and the eval mines with what the service builds
    parameters = inspect.signature(TemplateMiner).parameters
    shipped = LogMinerConfig()
    for name in LogMinerConfig.model_fields:
        assert getattr(shipped, name) == parameters[name].default, name
    assert configured_settings() == shipped.model_dump()
    assert set(GRID) <= set(configured_settings())


def test_the_config_refuses_a_many_values_rule_of_one() -> None:
    with pytest.raises(ValidationError):
        LogMinerConfig(parameter_values=1)
    assert LogMinerConfig(parameter_values=3).parameter_values == 3
