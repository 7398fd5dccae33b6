"""The micro-batched `EnsembleBank` gives the scalar `MetricEnsemble`'s scores and states, on any CPU.

Differential: many random and adversarial series (seasonal gauges, noise, bursts, counters with resets,
flat lines, NaN, +-inf, values near 1e300, irregular gaps and repeated timestamps), interleaved and cut
into micro-batches of random size (so a series often occurs several times in one batch), are scored and
learnt by the bank and by one scalar ensemble per series (score, then learn). The bank repeats the scalar
formulas in the same operation order, but evaluates `log`, `log1p`, `log10` and `power` with numpy, whose
SIMD versions round differently from `math` on some CPUs (about one ulp on AVX-512). So the contract
checked here (`support.floats`) is: every verdict, string, boolean, integer and snapshot key equal, every
float within a relative 1e-9; each test also runs with numpy's four functions forced one ulp off
(`rounding` = `one_ulp_off`), so the contract holds against such a CPU on every machine. Bank against
bank (the same batch cut differently) stays bit-identical. State moves both ways between the paths
through the `MetricEnsemble` snapshot format.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from support.floats import assert_equivalent, equivalent, numpy_rounding_one_ulp_off

from aiops.detectors.base import PointScore
from aiops.detectors.metric.bank.ensemble_bank import EnsembleBank
from aiops.detectors.metric.ensemble import MetricEnsemble
from aiops.detectors.metric.seasonal import _ADDED_FIELDS

pytestmark = pytest.mark.equivalence

KINDS = 11
FIELDS = ("score", "expected", "lower", "upper", "warm", "detail", "undamped")


def _same(left: Any, right: Any) -> bool:
    """Equal, with NaN equal to NaN, recursively through snapshots."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _same_point(left: PointScore, right: PointScore) -> bool:
    """Bit-identical: for two runs of the same path."""
    return all(_same(getattr(left, name), getattr(right, name)) for name in FIELDS)


def _equivalent_point(left: PointScore, right: PointScore) -> bool:
    """The scalar/micro-batched contract (`support.floats`)."""
    return all(equivalent(getattr(left, name), getattr(right, name)) for name in FIELDS)


def _assert_equivalent_snapshots(bank_state: Any, scalar_state: Any) -> None:
    """Same keys in the same order and the same JSON types (int vs float), floats within the tolerance."""
    assert_equivalent(json.loads(json.dumps(bank_state)), json.loads(json.dumps(scalar_state)))


def _values(kind: int, ts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = ts.size
    if kind == 0:  # seasonal gauge
        return 50.0 + 10.0 * np.sin(2 * np.pi * ts / 86400.0) + rng.normal(0.0, 1.0, n)
    if kind == 1:  # counter with resets
        values = np.cumsum(rng.poisson(5.0, n)).astype(float)
        for cut in rng.integers(50, n, 3):
            values[cut:] -= values[cut] - rng.integers(0, 3)
        return values
    if kind == 2:  # bursty
        return np.where(rng.random(n) < 0.05, rng.exponential(100.0, n), 1.0)
    if kind == 3:  # flat with a step and a flat-lined end
        values = np.full(n, 7.0)
        values[n // 3 :] = 8.0
        values[: n // 2] += rng.normal(0.0, 0.1, n // 2)
        return values
    if kind == 4:  # noise with NaN (the first value too) and +-inf
        values = rng.normal(0.0, 1.0, n)
        values[rng.integers(0, n, 20)] = np.nan
        values[0] = np.nan
        values[rng.integers(0, n, 5)] = np.inf
        values[rng.integers(0, n, 5)] = -np.inf
        return values
    if kind == 5:  # huge values
        values = rng.normal(1e300, 1e299, n)
        values[rng.integers(0, n, 3)] = -1e308
        return values
    if kind == 6:  # integer noise with a long flat stretch
        values = np.round(rng.normal(0.0, 3.0, n))
        values[n // 2 : n // 2 + 300] = 3.0
        return values
    if kind == 7:  # monotone counter (never resets), tiny increments
        return np.cumsum(rng.integers(0, 3, n)).astype(float) + 1.0
    if kind == 8:  # constant zero, then a spike
        values = np.zeros(n)
        values[n - 100] = 1e6
        return values
    if kind == 9:
        return rng.standard_cauchy(n)  # heavy tails, negative values
    return _weekly_gauge(ts, rng)


def _weekly_gauge(ts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Daytime traffic on weekdays only (1_400_000_000 is a Tuesday): the seasonal member's weekly correction."""
    hour, weekday = (ts % 86400.0) / 3600.0, ((ts // 86400.0) + 3) % 7
    daytime = np.clip(np.sin(np.pi * (hour - 7.0) / 12.0), 0.0, None)
    values: np.ndarray = 100.0 + np.where(weekday < 5, 60.0, 5.0) * daytime + rng.normal(0.0, 3.0, ts.size)
    return values


def _stream(seed: int, series: int, points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interleaved (series index, ts, value): each series in its own time order, series mixed at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(series):
        steps = rng.choice([60.0, 300.0, 3600.0, 0.0, 7200.0 * 5], points, p=[0.3, 0.3, 0.3, 0.05, 0.05])
        ts = 1_400_000_000.0 + np.cumsum(steps)  # 0: repeated timestamp; 36000: missing points
        rows.append((np.full(points, index), ts, _values(index % KINDS, ts, rng)))
    order = np.concatenate([np.full(points, index) for index in range(series)])
    rng.shuffle(order)
    taken = np.zeros(series, int)
    positions = np.empty(order.size, int)
    for at, index in enumerate(order):
        positions[at] = index * points + taken[index]
        taken[index] += 1
    flat = [np.concatenate(parts) for parts in zip(*rows, strict=True)]
    return flat[0][positions], flat[1][positions], flat[2][positions]


def _batches(size: int, rng: np.random.Generator) -> list[slice]:
    cuts, start = [], 0
    while start < size:
        end = start + int(rng.choice([1, 7, 64, 300], p=[0.1, 0.2, 0.35, 0.35]))
        cuts.append(slice(start, end))
        start = end
    return cuts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bank_scores_and_states_equal_the_scalar_ensemble(seed: int, rounding: str) -> None:
    series, ts, values = _stream(seed, series=30, points=800)
    _assert_bank_equals_scalars(series, ts, values, np.random.default_rng(seed))


def test_bank_equals_the_scalar_ensemble_once_the_weekly_correction_is_on(rounding: str) -> None:
    rng = np.random.default_rng(7)
    rows = []
    for index, step in enumerate((1800.0, 3600.0, 900.0)):
        ts = 1_400_000_000.0 + step * np.arange(int(5 * 7 * 86400 / step))
        rows.append((np.full(ts.size, index), ts, _weekly_gauge(ts, rng)))
    series, ts, values = (np.concatenate(parts) for parts in zip(*rows, strict=True))
    order = np.argsort(ts, kind="stable")  # event-time order across the series
    scalars = _assert_bank_equals_scalars(series[order], ts[order], values[order], rng)
    assert all(scalar.components["seasonal"].weekly for scalar in scalars)  # type: ignore[attr-defined]
    back = EnsembleBank()
    back.add(len(scalars))
    for index, scalar in enumerate(scalars):  # the derived weekly switch comes back with the state, both ways
        state = json.loads(json.dumps(scalar.snapshot()))
        assert MetricEnsemble.restore(state).components["seasonal"].weekly  # type: ignore[attr-defined]
        back.restore(index, state)
        assert back.detector(index).components["seasonal"].weekly  # type: ignore[attr-defined]
        stamp = float(ts.max()) + 3600.0
        assert _equivalent_point(back.process(np.array([index]), np.array([stamp]), np.array([100.0])).point(0),
                                 scalar.score(stamp, 100.0))  # fmt: skip


def _adversarial_weekly(seed: int, series: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly gauges until the correction is on, then repeated timestamps, time going backwards, gaps of
    a week (same block again) and more, and odd finite values; series interleaved, each in its own order."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(series):
        step = (3600.0, 1800.0)[index % 2]
        start = (1_400_000_000.0, -3 * 86400.0 + 900.0)[index % 2]  # negative event times too
        clean = start + step * np.arange(int(3 * 7 * 86400 / step))
        jumps = rng.choice([step, 0.0, -86400.0, 7 * 86400.0, 15 * 86400.0 + 1800.0], 500,
                           p=[0.85, 0.05, 0.03, 0.04, 0.03])  # fmt: skip
        ts = np.concatenate([clean, clean[-1] + np.cumsum(jumps)])
        values = _weekly_gauge(ts, rng)
        odd = clean.size + rng.integers(0, 500, 15)
        values[odd] = rng.choice([0.0, -1e6, 1e12, 5e-324], odd.size)
        rows.append((np.full(ts.size, index), ts, values))
    order = np.concatenate([np.full(row[0].size, index) for index, row in enumerate(rows)])
    rng.shuffle(order)
    taken = np.zeros(series, int)
    picked = []
    for index in order.tolist():
        picked.append(tuple(row[taken[index]] for row in rows[index]))
        taken[index] += 1
    flat = np.array(picked)
    return flat[:, 0].astype(np.intp), flat[:, 1], flat[:, 2]


def test_bank_equals_the_scalar_ensemble_with_the_weekly_correction_on_under_adversarial_time(rounding: str) -> None:
    series, ts, values = _adversarial_weekly(11, series=4)
    _assert_bank_equals_scalars(series, ts, values, np.random.default_rng(11))


def test_older_snapshots_restored_into_bank_and_scalar_continue_alike(rounding: str) -> None:
    """A snapshot from before the weekly fields, restored mid-stream into the bank (next to live series)
    and into the scalar ensemble: both continue alike (the contract), through the weekly correction turning on,
    and a released then reallocated index starts fresh."""
    rng = np.random.default_rng(5)
    ts = 1_400_000_000.0 + 3600.0 * np.arange(6 * 7 * 24)
    values = _weekly_gauge(ts, rng)
    cut = 2 * 7 * 24
    source = MetricEnsemble()
    for stamp, value in zip(ts[:cut].tolist(), values[:cut].tolist(), strict=True):
        source.score(stamp, value)
        source.learn(stamp, value)
    state = json.loads(json.dumps(source.snapshot()))
    for field in _ADDED_FIELDS:
        del state["components"]["seasonal"]["state"][field]
    scalar = MetricEnsemble.restore(state)
    bank = EnsembleBank()
    bank.add(3)
    bank.process(np.arange(3), np.full(3, 1e9), np.ones(3))
    bank.restore(1, state)
    for stamp, value in zip(ts[cut:].tolist(), values[cut:].tolist(), strict=True):
        scores = bank.process(np.array([0, 1, 2, 1]), np.array([stamp, stamp, stamp, stamp]),
                              np.array([value, value, value, value + 1.0]))  # fmt: skip
        for offset, seen in ((1, value), (3, value + 1.0)):
            assert _equivalent_point(scores.point(offset), scalar.score(stamp, seen)), stamp
            scalar.learn(stamp, seen)
    assert scalar.components["seasonal"].weekly  # type: ignore[attr-defined]
    _assert_equivalent_snapshots(bank.snapshot(1), scalar.snapshot())
    bank.release(1)
    assert json.dumps(bank.snapshot(bank.allocate())) == json.dumps(MetricEnsemble().snapshot())


def _assert_bank_equals_scalars(
    series: np.ndarray, ts: np.ndarray, values: np.ndarray, rng: np.random.Generator
) -> list[MetricEnsemble]:
    """Bank and one scalar ensemble per series over random micro-batches: equivalent points and snapshots."""
    count = int(series.max()) + 1
    bank = EnsembleBank()
    bank.add(count)
    scalars = [MetricEnsemble() for _ in range(count)]
    for part in _batches(series.size, rng):
        scores = bank.process(series[part], ts[part], values[part])
        each = [scores.point(offset) for offset in range(scores.score.size)]
        assert all(_same_point(a, b) for a, b in zip(scores.points(), each, strict=True))
        for offset, (index, stamp, value) in enumerate(
            zip(series[part].tolist(), ts[part].tolist(), values[part].tolist(), strict=True)
        ):
            expected = scalars[index].score(stamp, value)
            scalars[index].learn(stamp, value)
            assert _equivalent_point(scores.point(offset), expected), (index, stamp, value)
    for index, scalar in enumerate(scalars):
        _assert_equivalent_snapshots(bank.snapshot(index), scalar.snapshot())
        _assert_equivalent_snapshots(bank.detector(index).snapshot(), scalar.snapshot())
    return scalars


def test_state_moves_between_the_bank_and_the_scalar_ensemble(rounding: str) -> None:
    series, ts, values = _stream(5, series=10, points=800)
    reference = [MetricEnsemble() for _ in range(10)]
    bank = EnsembleBank()
    bank.add(10)
    half = series.size // 2
    for index, stamp, value in zip(series.tolist(), ts.tolist(), values.tolist(), strict=True):
        reference[index].score(stamp, value)
        reference[index].learn(stamp, value)
    bank.process(series[:half], ts[:half], values[:half])
    moved = [MetricEnsemble.restore(json.loads(json.dumps(bank.snapshot(index)))) for index in range(10)]
    for index, stamp, value in zip(series[half:].tolist(), ts[half:].tolist(), values[half:].tolist(), strict=True):
        moved[index].score(stamp, value)
        moved[index].learn(stamp, value)
    back = EnsembleBank()
    back.add(10)
    partial = [MetricEnsemble() for _ in range(10)]
    for index, stamp, value in zip(series[:half].tolist(), ts[:half].tolist(), values[:half].tolist(), strict=True):
        partial[index].score(stamp, value)
        partial[index].learn(stamp, value)
    for index, scalar in enumerate(partial):
        back.restore(index, json.loads(json.dumps(scalar.snapshot())))
    back.process(series[half:], ts[half:], values[half:])
    for index in range(10):
        _assert_equivalent_snapshots(moved[index].snapshot(), reference[index].snapshot())
        _assert_equivalent_snapshots(back.snapshot(index), reference[index].snapshot())


def test_repeats_of_one_series_in_a_batch_are_processed_in_stream_order() -> None:
    rng = np.random.default_rng(3)
    ts = np.arange(600) * 300.0
    values = rng.normal(10.0, 1.0, 600)
    values[550] = 40.0
    batched, single = EnsembleBank(), EnsembleBank()
    batched.add(2)
    single.add(2)
    series = np.zeros(600, np.intp)
    together = batched.process(series, ts, values)
    for at in range(600):
        alone = single.process(series[at : at + 1], ts[at : at + 1], values[at : at + 1])
        assert _same_point(together.point(at), alone.point(0))
    assert together.score[550] > 0.9999
    assert _same(batched.snapshot(0), single.snapshot(0))
    assert _same(batched.snapshot(1), MetricEnsemble().snapshot())


def test_warm_series_hold_no_initial_batches() -> None:
    bank = EnsembleBank()
    bank.add(3)
    ts = np.arange(800) * 300.0
    for step in range(800):
        bank.process(np.arange(3), np.full(3, ts[step]), np.sin(np.full(3, ts[step]) / 5000.0) + 0.01 * np.arange(3))
    tails = [bank.persistence_tail, *(member.tail for member in bank.members if member.tail is not None)]
    assert all(tail.pool.shape[0] == 0 for tail in tails)
    assert all(snapshot["fitted"] for snapshot in (bank.snapshot(0)["persistence_tail"],))


def test_numpy_and_math_agree_within_the_contract_tolerance() -> None:
    """numpy's vectorised functions and `math` may differ in the last bits by CPU, never by more."""
    rng = np.random.default_rng(0)
    sample = np.concatenate([rng.random(20_000) * 10.0, np.exp(rng.normal(0.0, 20.0, 20_000)), [5e-324, 1e-300]])
    for vectorised, scalar in ((np.log, math.log), (np.log1p, math.log1p), (np.log10, math.log10)):
        assert_equivalent(vectorised(sample).tolist(), [scalar(value) for value in sample.tolist()])
    exponents = np.minimum(sample, 15.0)
    assert_equivalent(np.power(10.0, -exponents).tolist(), [math.pow(10.0, -value) for value in exponents.tolist()])


def test_one_ulp_off_rounding_changes_numpy_but_stays_within_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in for another CPU really moves results (or the `one_ulp_off` runs would prove nothing)."""
    sample = np.linspace(0.5, 20.0, 1000)
    native = np.log(sample)
    with numpy_rounding_one_ulp_off(monkeypatch):
        moved = np.log(sample)
    assert np.count_nonzero(moved != native) >= 990
    assert_equivalent(moved.tolist(), native.tolist())


def test_process_rejects_unknown_series() -> None:
    bank = EnsembleBank()
    bank.add(1)
    with pytest.raises(IndexError):
        bank.process(np.array([1]), np.array([0.0]), np.array([1.0]))


def test_released_series_give_their_initial_batch_slots_back() -> None:
    """Series dropped while their tails still collect (evicted or revoked during warm-up) hold no pool."""
    bank = EnsembleBank()
    series = [bank.allocate() for _ in range(100)]
    rng = np.random.default_rng(0)
    for step in range(60):
        bank.process(np.array(series), np.full(100, step * 60.0), rng.normal(0.0, 1.0, 100))
    tails = [bank.persistence_tail, *(member.tail for member in bank.members if member.tail is not None)]
    assert any(tail.pool.shape[0] > 0 for tail in tails)
    for index in series:
        bank.release(index)
    assert all(tail.pool.shape[0] == 0 for tail in tails)
    again = bank.allocate()
    assert json.dumps(bank.snapshot(again)) == json.dumps(MetricEnsemble().snapshot())
