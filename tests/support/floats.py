"""The scalar/micro-batched equivalence contract, and a stand-in for a CPU that rounds differently.

Contract (docs/ARCHITECTURE.md, "Scalar and micro-batched detectors"): the micro-batched `EnsembleBank`
and the scalar `MetricEnsemble` give the same verdicts, episodes, signals, strings, booleans, integers and
snapshot layout (same keys in the same order, same JSON types); every float is equal within
`REL_TOLERANCE` relative or `ABS_TOLERANCE` absolute (NaN equals NaN, infinities equal themselves). The
bank evaluates `log`, `log1p`, `log10` and `power` with numpy, the scalar path with `math`; numpy's SIMD
versions differ from the C library by about one unit in the last place on some CPUs (AVX-512), so the
contract cannot be bit-identity. `rounding_one_ulp_off` makes numpy's four functions round one unit in
the last place away from their native result, on any machine, so the contract is exercised everywhere
against the kind of difference such CPUs produce.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

REL_TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-12
PERTURBED_FUNCTIONS = ("log", "log1p", "log10", "power")


def close_floats(left: float, right: float) -> bool:
    if math.isnan(left) or math.isnan(right):
        return math.isnan(left) and math.isnan(right)
    return math.isclose(left, right, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)


def assert_equivalent(actual: Any, expected: Any, path: str = "$") -> None:
    """Assert the contract recursively through dicts, lists, tuples and pydantic-dumped values."""
    if isinstance(actual, float) and isinstance(expected, float):
        assert close_floats(actual, expected), f"{path}: {actual!r} vs {expected!r} beyond tolerance"
    elif isinstance(actual, dict) and isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in actual:
            assert_equivalent(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(actual, list | tuple) and isinstance(expected, list | tuple):
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_equivalent(left, right, f"{path}[{index}]")
    else:  # strings, ints, booleans, None: exact, and the same type (an int never stands for a float)
        assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def equivalent(actual: Any, expected: Any) -> bool:
    try:
        assert_equivalent(actual, expected)
    except AssertionError:
        return False
    return True


def _one_ulp_off(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, its finite results other than 0 and 1 moved one ulp (up where the last bit is even)."""

    def perturbed(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        values = np.asarray(result, dtype=np.float64)
        movable = np.isfinite(values) & (values != 0.0) & (values != 1.0)
        upward = (values.view(np.uint64) & np.uint64(1)) == 0
        nudged = np.where(movable, np.nextafter(values, np.where(upward, np.inf, -np.inf)), values)
        return nudged if isinstance(result, np.ndarray) else np.float64(nudged)

    return perturbed


@contextmanager
def numpy_rounding_one_ulp_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    originals = {name: getattr(np, name) for name in PERTURBED_FUNCTIONS}
    for name, function in originals.items():
        monkeypatch.setattr(np, name, _one_ulp_off(function))
    try:
        yield
    finally:
        for name, function in originals.items():
            monkeypatch.setattr(np, name, function)


@pytest.fixture(params=["native", "one_ulp_off"])
def rounding(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with this machine's numpy, then with numpy's transcendental functions one ulp off."""
    if request.param == "native":
        yield request.param
        return
    with numpy_rounding_one_ulp_off(monkeypatch):
        yield request.param
