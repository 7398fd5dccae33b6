"""`ConsumerProgress`: when is the correlation consumer stalled (for `/healthz`)?"""

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
