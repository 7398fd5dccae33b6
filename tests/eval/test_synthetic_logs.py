"""The synthetic log generator: deterministic, known templates, the token classes it promises."""

from __future__ import annotations

import re
from collections import Counter

from aiops_eval.loghub import grouping_accuracy, synthetic_systems
from aiops_eval.synthetic_logs import generate_system, generate_systems


def test_same_seed_same_system_other_seed_other_system() -> None:
    first, again, other = generate_system(5, 300), generate_system(5, 300), generate_system(6, 300)
    assert first == again
    assert first.lines != other.lines


def test_truth_names_a_known_template_for_every_line() -> None:
    system = generate_system(3)
    assert len(system.lines) == len(system.truth) == 2000
    assert set(system.truth) <= set(system.templates)
    assert 20 <= len(system.templates) <= 120
    counts = Counter(system.truth).most_common()
    assert counts[0][1] > 5 * counts[-1][1]  # a skewed, Zipf-like mix


def test_lines_render_their_template_constants_in_order() -> None:
    system = generate_system(8, 500)
    for line, template_id in zip(system.lines, system.truth, strict=True):
        constants = [token for token in system.templates[template_id].split(" ") if "{" not in token]
        position = 0
        for constant in constants:
            position = line.index(constant.strip('"'), position)


def test_the_promised_token_classes_occur() -> None:
    text = "\n".join(line for system in generate_systems(2, 6, 500) for line in system.lines)
    patterns = {
        "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-", "ipv6": r"[0-9a-f]+:[0-9a-f]+::",
        "host:port": r"[a-z]+\.[a-z]+\.[a-z]+:\d+",
        "duration": r"\d+(?:ms|µs)|<1 sec", "size": r" (?:KB|bytes|B)\b", "json": r'\{"user": "',
        "http line": r'"(?:GET|POST|PUT|DELETE) /api/', "key=value": r"\b(?:user|id|attempt|shard|peer)=",
        "request id": r"\breq[-_]", "base64": r"[A-Za-z0-9+/]{16,}==?",
    }
    missing = [name for name, pattern in patterns.items() if not re.search(pattern, text)]
    assert not missing


def test_a_perfect_grouping_scores_one_and_a_single_group_scores_low() -> None:
    system = synthetic_systems(4, 1)[0]
    truth = system.truth["known"]
    assert grouping_accuracy(truth, truth) == 1.0
    assert grouping_accuracy(["one"] * len(truth), truth) < 0.1
