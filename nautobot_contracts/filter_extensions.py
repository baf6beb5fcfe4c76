"""Filters the app adds to Nautobot's own lists: Devices with or without contract coverage today."""

from django import forms
import django_filters
from nautobot.apps.constants import BOOLEAN_WITH_BLANK_CHOICES
from nautobot.apps.filters import FilterExtension
from nautobot.apps.forms import StaticSelect2

from nautobot_contracts import clock
from nautobot_contracts.filter_inputs import StrictBooleanField
from nautobot_contracts.filters import requesting_user
from nautobot_contracts.services import coverage

# Nautobot requires filters added through FilterExtension to start with the app's name.
HAS_COVERAGE = "nautobot_contracts_has_contract_coverage"
# The short name operators were promised (/api/dcim/devices/?has_contract_coverage=false), added as an alias.
HAS_COVERAGE_ALIAS = "has_contract_coverage"


class ContractCoverageFilter(django_filters.BooleanFilter):
    """true: devices covered today; false: devices without coverage today (services.coverage decides).

    Nautobot's Devices filter set is not the app's, so the strict boolean field is set here: "maybe" is a 400, not
    every device.
    """

    field_class = StrictBooleanField

    def filter(self, qs, value):
        """Narrow `qs` with the set-based coverage scan, counting only contracts the requesting user may view."""
        if value is None:
            return qs
        scan = coverage.covered_devices if value else coverage.uncovered_devices
        return scan(clock.today(), user=requesting_user(self.parent), queryset=qs)


class DeviceFilterExtension(FilterExtension):
    """Adds "has contract coverage" to the Devices filter set (UI, REST, GraphQL) and filter form."""

    model = "dcim.device"
    filterset_fields = {HAS_COVERAGE: ContractCoverageFilter(label="Has contract coverage")}
    filterform_fields = {
        HAS_COVERAGE: forms.NullBooleanField(
            required=False,
            label="Has contract coverage",
            widget=StaticSelect2(choices=BOOLEAN_WITH_BLANK_CHOICES),
        )
    }


filter_extensions = [DeviceFilterExtension]


def register_short_alias():
    """Also accept `has_contract_coverage` on Nautobot's Devices filter set (REST, UI list URLs, GraphQL).

    FilterExtension has no door for an unprefixed name, so this makes the same `add_filter` call Nautobot's extension
    loader makes; called once from the app's ready(). An existing filter of that name is left alone.
    """
    from nautobot.dcim.filters import DeviceFilterSet  # pylint: disable=import-outside-toplevel

    if HAS_COVERAGE_ALIAS not in DeviceFilterSet.base_filters:
        DeviceFilterSet.add_filter(HAS_COVERAGE_ALIAS, ContractCoverageFilter(label="Has contract coverage"))
