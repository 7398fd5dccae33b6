"""`aiops silence …` writes to the silences topic the worker follows (`suppression.silences_topic`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aiops.cli.silences import _target


def test_the_configured_silences_topic_is_used_unless_topic_is_given(tmp_path: Path) -> None:
    config = tmp_path / "aiops.yaml"
    config.write_text("kafka: {bootstrap: '127.0.0.1:9'}\nsuppression: {silences_topic: team.silences}\n")
    args = argparse.Namespace(config=str(config), bootstrap=None, topic=None)
    assert _target(args) == ("127.0.0.1:9", "team.silences")
    args.topic = "other.silences"
    assert _target(args) == ("127.0.0.1:9", "other.silences")
    default = argparse.Namespace(config=None, bootstrap="127.0.0.1:9", topic=None)
    assert _target(default) == ("127.0.0.1:9", "aiops.silences")
