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


# Under ./dev.sh test (and so in CI) every dependency is installed, so a skip
# can only mean a broken set-up step: report it as a failure, not a skip.
import pytest  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("GRADVIZ_NO_SKIPS") == "1" and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under GRADVIZ_NO_SKIPS=1 (a set-up step is missing?): {reason}"
