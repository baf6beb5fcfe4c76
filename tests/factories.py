"""factory-boy factories for the app's models, plus small builders for the core objects contracts attach to."""

import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
import factory
from nautobot.apps.factory import PrimaryModelFactory, UniqueFaker
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.dcim.models import Device, DeviceType, Location, LocationType, Manufacturer, Rack
from nautobot.extras.models import Role, Status
from nautobot.tenancy.models import Tenant, TenantGroup

from nautobot_contracts.choices import BillingPeriodChoices, ContractTypeChoices
from nautobot_contracts.models import (
    Budget,
    Contract,
    ContractAssignment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    ServiceProvider,
)


def status_for(model, name):
    """The named Status, bound to `model` (the app binds its own statuses on migrate)."""
    status = Status.objects.get(name=name)
    status.content_types.add(ContentType.objects.get_for_model(model))
    return status


class ServiceProviderFactory(PrimaryModelFactory):
    """A provider with a unique name."""

    class Meta:
        model = ServiceProvider

    name = UniqueFaker("company")
    account_number = factory.Sequence(lambda n: f"ACCT-{n:05d}")
    support_email = factory.Faker("company_email")

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        """No random tags: tests choose their own."""


class ContractFactory(PrimaryModelFactory):
    """An Active monthly USD support contract for the current year, unless told otherwise."""

    class Meta:
        model = Contract

    name = factory.Sequence(lambda n: f"Contract {n:05d}")
    provider = factory.SubFactory(ServiceProviderFactory)
    status = factory.LazyFunction(lambda: status_for(Contract, "Active"))
    contract_type = ContractTypeChoices.TYPE_SUPPORT
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2026, 12, 31)
    recurring_cost = Decimal("100.00")
    billing_period = BillingPeriodChoices.PERIOD_MONTHLY
    currency = "USD"

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        """No random tags: tests choose their own."""


class InvoiceFactory(PrimaryModelFactory):
    """An Open invoice for one month of its contract (pass a Paid status and it is paid on its invoice date)."""

    class Meta:
        model = Invoice

    contract = factory.SubFactory(ContractFactory)
    invoice_number = factory.Sequence(lambda n: f"INV-{n:06d}")
    invoice_date = datetime.date(2026, 2, 1)
    period_start = datetime.date(2026, 1, 1)
    period_end = datetime.date(2026, 1, 31)
    amount = Decimal("100.00")
    currency = factory.LazyAttribute(lambda o: o.contract.currency)
    status = factory.LazyFunction(lambda: status_for(Invoice, "Open"))
    # A Paid invoice needs a paid date and only a Paid one has one; paid when issued keeps it out of the future.
    paid_date = factory.LazyAttribute(lambda o: o.invoice_date if o.status.name == "Paid" else None)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        """No random tags: tests choose their own."""


class ContractAssignmentFactory(PrimaryModelFactory):
    """An assignment of a contract to `assigned_object` (pass one in)."""

    class Meta:
        model = ContractAssignment
        exclude = ("assigned_object",)

    contract = factory.SubFactory(ContractFactory)
    assigned_object = None
    assigned_object_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.assigned_object))
    assigned_object_id = factory.LazyAttribute(lambda o: o.assigned_object.pk)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        """No random tags: tests choose their own."""


class ExchangeRateFactory(PrimaryModelFactory):
    """A rate into the reporting currency."""

    class Meta:
        model = ExchangeRate

    currency = "EUR"
    rate = Decimal("1.10")
    effective_date = datetime.date(2026, 1, 1)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        """No random tags: tests choose their own."""


class BudgetFactory(PrimaryModelFactory):
    """A USD budget for fiscal year 2026 with no tenant or cost center, unless told otherwise."""

    class Meta:
        model = Budget

    name = factory.Sequence(lambda n: f"Budget {n:04d}")
    fiscal_year = 2026
    currency = "USD"
    amount = Decimal("10000.00")

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        """No random tags: tests choose their own."""


class CostSnapshotFactory(factory.django.DjangoModelFactory):
    """A snapshot row (in production only the snapshot Job writes these)."""

    class Meta:
        model = CostSnapshot

    snapshot_date = datetime.date(2026, 1, 1)
    currency = "USD"
    monthly_burn = Decimal("1000.00")
    renewal_90d = Decimal("0.00")
    active_contract_count = 1


# Core objects contracts attach to. Each builder reuses what a previous call created.


def make_location(name="HQ", parent=None, location_type_name="Site"):
    """A Location (with its LocationType allowing devices, racks and circuits), active."""
    location_type, _ = LocationType.objects.get_or_create(name=location_type_name)
    location_type.content_types.add(
        *ContentType.objects.filter(app_label="dcim", model__in=["device", "rack"]),
        *ContentType.objects.filter(app_label="circuits", model="circuittermination"),
    )
    return Location.objects.get_or_create(
        name=name,
        defaults={"location_type": location_type, "parent": parent, "status": status_for(Location, "Active")},
    )[0]


def make_tenant(name="Tenant A", group=None):
    """A Tenant, optionally in a TenantGroup."""
    return Tenant.objects.get_or_create(name=name, defaults={"tenant_group": group})[0]


def make_tenant_group(name="Group A", parent=None):
    """A TenantGroup, optionally under a parent group."""
    return TenantGroup.objects.get_or_create(name=name, defaults={"parent": parent})[0]


def make_rack(name="R1", location=None):
    """A Rack in `location` (default HQ)."""
    location = location or make_location()
    return Rack.objects.get_or_create(name=name, location=location, defaults={"status": status_for(Rack, "Active")})[0]


def make_device(name="dev-1", location=None, rack=None, tenant=None):
    """A Device of a shared test type and role."""
    manufacturer, _ = Manufacturer.objects.get_or_create(name="Acme Hardware")
    device_type, _ = DeviceType.objects.get_or_create(manufacturer=manufacturer, model="Switch 9000")
    role, _ = Role.objects.get_or_create(name="Access Switch")
    role.content_types.add(ContentType.objects.get_for_model(Device))
    location = location or (rack.location if rack else make_location())
    return Device.objects.create(
        name=name,
        device_type=device_type,
        role=role,
        location=location,
        rack=rack,
        tenant=tenant,
        status=status_for(Device, "Active"),
    )


def make_circuit(cid="CID-1", provider_name="Carrier One"):
    """A Circuit with its own provider and type."""
    provider, _ = Provider.objects.get_or_create(name=provider_name)
    circuit_type, _ = CircuitType.objects.get_or_create(name="Internet")
    return Circuit.objects.get_or_create(
        cid=cid,
        provider=provider,
        defaults={"circuit_type": circuit_type, "status": status_for(Circuit, "Active")},
    )[0]


def grant(user, model, constraints=None, actions=("view",)):
    """Give `user` an ObjectPermission on `model` (optionally limited by `constraints`); returns the permission.

    Re-fetch the user afterwards (``User.objects.get(pk=user.pk)``): Nautobot caches a user's permissions.
    """
    from nautobot.users.models import ObjectPermission  # pylint: disable=import-outside-toplevel

    permission = ObjectPermission.objects.create(
        name=f"{model._meta.label_lower} {actions} {constraints}"[:100], actions=list(actions), constraints=constraints
    )
    permission.users.add(user)
    permission.object_types.add(ContentType.objects.get_for_model(model))
    return permission
