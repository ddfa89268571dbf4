"""Hypothesis settings for the hostile-input tests: deterministic and quick enough for CI.

`HYPOTHESIS_PROFILE=deep` runs ten times as many examples, with a random seed, for a longer hunt.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
settings.register_profile("ci", max_examples=150, derandomize=True, **_COMMON)
settings.register_profile("deep", max_examples=1500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
