"""Offline evaluation of aiops on public benchmarks (`aiops eval nab|loghub|petshop|alarms`).

Reads dataset files and scores the service's own pure stages (detectors, `Pipeline`) against labels and
published baselines (`aiops_eval.baselines`). It is not part of the service: `aiops` never imports it (the
`aiops eval` command loads it by name at run time), and what only it needs comes with the ``eval`` extra
(``pip install 'aiops[eval]'``, included in ``dev``).
"""

from __future__ import annotations

from importlib.util import find_spec

# The import names of pyproject's `eval` extra (tests/unit/test_eval_extra.py keeps the two in step).
EXTRA_MODULES = ("drain3",)


def missing_extra_modules() -> list[str]:
    """The modules of the ``eval`` extra that cannot be imported here (empty when the extra is installed)."""
    return [name for name in EXTRA_MODULES if find_spec(name) is None]
