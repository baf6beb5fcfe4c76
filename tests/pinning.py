"""Pin the app's clock in tests: one patch of `nautobot_contracts.clock.today` pins every surface."""

from unittest import mock

CLOCK = "nautobot_contracts.clock.today"


def pin_today(case, day):
    """Make `clock.today()` return `day` until `case` ends.

    `case` is a test instance (pinned until the test's clean-up) or a TestCase class (pinned until the class's
    clean-up, e.g. from setUpTestData or setUpClass).
    """
    patcher = mock.patch(CLOCK, return_value=day)
    patcher.start()
    (case.addClassCleanup if isinstance(case, type) else case.addCleanup)(patcher.stop)
