"""Test base classes shared by the suite."""

from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.management import populate_role_choices, populate_status_choices

from nautobot_contracts import signals


class MigratedStateTransactionTestCase(TransactionTestCase):
    """A TransactionTestCase that leaves the database as migrate left it, not merely empty.

    Django truncates every table after each such test, and Nautobot's base only puts the core statuses back, so the
    tests that run later in the same database would miss what migrate created: the core roles and the app's statuses
    and "Renewal owner" role. Both are restored here with the same handlers migrate runs.
    """

    def _fixture_teardown(self):
        super()._fixture_teardown()
        populate_status_choices()
        populate_role_choices()
        signals.create_statuses(sender=None)
        signals.create_renewal_owner_role(sender=None)
