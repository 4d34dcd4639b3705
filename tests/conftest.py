"""Shared test configuration: hypothesis profiles.

`ci` (the default under ./dev.sh test) is derandomized, so CI is repeatable, with
enough examples per property to mean something; `dev` is quicker and random;
`thorough` is for a long local hunt.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=150,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
