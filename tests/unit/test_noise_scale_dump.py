"""`NoiseScale.dump` is `dataclasses.asdict` written out (the snapshot's `noise` entry must not change)."""

from __future__ import annotations

from dataclasses import asdict, fields

from aiops.detectors.episodes.noise import NoiseScale


def test_dump_equals_asdict_after_learning() -> None:
    noise = NoiseScale()
    for value in (10.0, 12.5, 9.0, 40.0, 11.0):
        noise.learn(value)
    dumped = noise.dump()
    assert dumped == asdict(noise)
    assert list(dumped) == [field.name for field in fields(NoiseScale)]  # a new field must be dumped too
    assert dumped["count"] == 5
    assert dumped["previous"] == 11.0


def test_dump_restores_the_same_scale() -> None:
    noise = NoiseScale()
    for value in (1.0, 3.0, 2.0, 5.0):
        noise.learn(value)
    restored = NoiseScale(**noise.dump())
    assert restored == noise
