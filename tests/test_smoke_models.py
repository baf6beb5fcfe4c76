"""The factories build valid objects and the statuses exist (a guard for every other test module)."""

from nautobot.apps.testing import TestCase

from nautobot_contracts.models import ContractAssignment
from tests import factories


class FactorySmokeTest(TestCase):
    """Factories and core builders produce saved, valid objects."""

    def test_contract_chain(self):
        invoice = factories.InvoiceFactory()
        self.assertEqual(invoice.currency, "USD")
        self.assertEqual(invoice.contract.status.name, "Active")
        self.assertEqual(invoice.status.name, "Open")

    def test_assignment_to_device(self):
        device = factories.make_device(rack=factories.make_rack(), tenant=factories.make_tenant())
        assignment = factories.ContractAssignmentFactory(assigned_object=device)
        self.assertEqual(ContractAssignment.objects.get(pk=assignment.pk).assigned_object, device)
        factories.make_circuit()
