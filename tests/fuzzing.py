"""How many examples a property test tries: a few in ``make test``, many in ``make fuzz``.

``make fuzz`` sets ``INTERCARGA_HYPOTHESIS_PROFILE=fuzz``; :func:`examples` then gives each test
its long-run count instead of its everyday one. The profile is loaded by ``tests/conftest.py``,
so it also holds for property tests that name no count.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["FUZZING", "examples"]

PROFILE = os.environ.get("INTERCARGA_HYPOTHESIS_PROFILE", "default")
FUZZING = PROFILE == "fuzz"

settings.register_profile(
    "fuzz",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,  # a failure found in a long run prints how to reproduce it
)
settings.load_profile(PROFILE)


def examples(everyday: int, fuzz: int) -> int:
    """``everyday`` examples in ``make test``, ``fuzz`` under the fuzz profile."""
    return fuzz if FUZZING else everyday
