"""`ConsumerProgress`: when is a stage's consumer (detection, correlation, delivery) stalled (`/healthz`)?"""

from __future__ import annotations

from aiops.runtime.progress import ConsumerProgress


def test_records_already_there_at_assignment_do_not_count_only_new_ones_do() -> None:
    progress = ConsumerProgress(stall_seconds=60)
    progress.assigned([0, 1])
    progress.observe_ends({0: 500, 1: 0}, now=0)  # history before this worker: unknown, not a stall
    assert progress.lag() == {0: 0, 1: 0}
    progress.observe_ends({0: 503, 1: 2}, now=10)  # watermarks keep arriving, nothing is processed
    assert progress.lag() == {0: 3, 1: 2}
    assert progress.stalled(now=69) == []
    assert progress.stalled(now=70) == [0, 1]
    assert progress.status(now=70) == {"ok": False, "stalled_partitions": [0, 1], "lag_records": {0: 3, 1: 2}}


def test_progress_clears_the_wait_and_a_momentary_backlog_is_not_a_stall() -> None:
    progress = ConsumerProgress(stall_seconds=60)
    progress.assigned([0])
    for second in range(0, 300, 5):
        progress.observe_ends({0: second + 1}, now=second)  # one record ahead at every poll...
        progress.processed(0, second)  # ...and processed right after
    assert progress.status(now=300)["ok"]
    progress.processed(0, 400)
    progress.observe_ends({0: 401}, now=301)
    assert progress.lag() == {0: 0}


def test_revoked_partitions_are_forgotten_and_unknown_partitions_ignored() -> None:
    progress = ConsumerProgress(stall_seconds=1)
    progress.assigned([0, 1])
    progress.observe_ends({0: 0, 1: 0}, now=0)
    progress.observe_ends({0: 5, 1: 5, 7: 9}, now=1)
    progress.assigned([1])
    assert progress.stalled(now=10) == [1]
    assert progress.lag() == {1: 5}
    progress.processed(1, 4)
    assert progress.stalled(now=20) == []


def test_zero_stall_seconds_disables_the_check() -> None:
    progress = ConsumerProgress(stall_seconds=0)
    progress.assigned([0])
    progress.observe_ends({0: 0}, now=0)
    progress.observe_ends({0: 9}, now=1)
    assert progress.status(now=1000) == {"ok": True, "stalled_partitions": [], "lag_records": {0: 9}}


def test_fetched_records_are_waiting_work_even_when_the_broker_under_reports_its_end() -> None:
    """tansu reports the last batch's base offset + 1: 10 records in one batch -> end 1. The worker holds
    offsets 0..9 and is stuck on offset 5: the end offset alone shows no lag, the fetched records do."""
    progress = ConsumerProgress(stall_seconds=10)
    progress.assigned([0])
    progress.fetched(0, 0, 9)
    for offset in range(5):
        progress.processed(0, offset)
    progress.observe_ends({0: 1}, now=0)
    assert progress.lag() == {0: 5}
    assert progress.stalled(now=10) == [0]


def test_committed_offset_at_assignment_makes_a_waiting_backlog_count() -> None:
    progress = ConsumerProgress(stall_seconds=10)
    progress.assigned([0, 1])
    assert progress.unknown() == [0, 1]
    progress.starts_at(0, 40)  # committed offset: records 40.. are this worker's to process
    progress.observe_ends({0: 50, 1: 7}, now=0)
    assert progress.unknown() == []
    assert progress.lag() == {0: 10, 1: 0}  # partition 1: nothing known, only later records count
    assert progress.stalled(now=10) == [0]
    progress.starts_at(0, 0)  # ignored: the position is known
    progress.observe_ends({0: 50, 1: 7}, now=11)
    assert progress.lag() == {0: 10, 1: 0}


def test_attempts_and_chosen_waits_are_progress_a_silent_worker_is_not() -> None:
    """A delivery worker retrying one record through a receiver outage: each attempt, and each backoff wait
    until its end, keeps it alive; once it neither attempts nor waits by choice, it stalls."""
    progress = ConsumerProgress(stall_seconds=10)
    progress.assigned([0])
    progress.fetched(0, 0, 2)
    progress.observe_ends({0: 3}, now=0)
    for second in range(0, 60, 5):  # an attempt every 5 s for a minute
        progress.active(float(second))
        progress.observe_ends({0: 3}, now=second + 1)
        assert progress.stalled(now=second + 5) == []
    progress.active(60.0, until=120.0)  # Retry-After: 60 s, longer than stall_seconds
    progress.observe_ends({0: 3}, now=61)
    assert progress.stalled(now=129) == []
    assert progress.stalled(now=130) == [0]  # the wait ended 10 s ago and no attempt came
    progress.processed(0, 2)
    progress.observe_ends({0: 3}, now=131)
    assert progress.status(now=200)["ok"]
