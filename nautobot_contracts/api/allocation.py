"""GET /api/plugins/contracts/cost-allocation/: the monthly cost allocated on a date, grouped (services.allocation)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from nautobot.dcim.models import Location
from nautobot.tenancy.models import Tenant
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from nautobot_contracts import clock
from nautobot_contracts.currencies import normalize_currency, validate_currency
from nautobot_contracts.jobs.base import EARLIEST_DATE, LATEST_DATE
from nautobot_contracts.services import allocation
from nautobot_contracts.services.access import restrict

VIEW_PERMISSION = "nautobot_contracts.view_contract"
MONEY_HELP = "Money: a decimal string with two decimals, rounded half-up."


class CostAllocationQuerySerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The query parameters; every refusal names its parameter."""

    group_by = serializers.ChoiceField(choices=allocation.GROUP_BY_CHOICES, help_text="What the rows are")
    as_of = serializers.DateField(required=False, help_text="YYYY-MM-DD; default today")
    currency = serializers.CharField(required=False, max_length=3, help_text="Only contracts in this currency")
    location = serializers.UUIDField(required=False, help_text="Only shares at this location or a descendant of it")
    tenant = serializers.UUIDField(required=False, help_text="Only shares attributed to this tenant")

    def validate_as_of(self, value):
        """Within the dates the app accepts anywhere."""
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise serializers.ValidationError(
                f"Enter a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
            )
        return value

    def validate_currency(self, value):
        """An ISO 4217 code, any case."""
        value = normalize_currency(value)
        try:
            validate_currency(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return value

    def _visible(self, queryset, value, label):
        user = self.context["request"].user
        found = restrict(queryset, user).filter(pk=value).first()
        if found is None:
            # The same answer for an object that does not exist and one the user may not view.
            raise serializers.ValidationError(f"No {label} with id {value}.")
        return found

    def validate_location(self, value):
        """A location the user may view."""
        return self._visible(Location.objects.without_tree_fields(), value, "location")

    def validate_tenant(self, value):
        """A tenant the user may view."""
        return self._visible(Tenant.objects.all(), value, "tenant")


class CostAllocationRowSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """One group's allocated monthly cost in one currency."""

    id = serializers.CharField(
        allow_null=True,
        help_text="The tenant's, tenant group's, location's or contract's id, or the cost center; null for (none)",
    )
    name = serializers.CharField(help_text='The name; "(none)" for shares attributed to nothing, "(hidden)"')
    object_type = serializers.CharField(
        allow_null=True, help_text="tenancy.tenant, tenancy.tenantgroup, dcim.location, nautobot_contracts.contract"
    )
    currency = serializers.CharField()
    monthly_cost = serializers.CharField(help_text=f"Including descendants for a location. {MONEY_HELP}")
    own_monthly_cost = serializers.CharField(
        required=False, help_text=f"group_by=location: the location's own, without descendants. {MONEY_HELP}"
    )
    parent_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="group_by=location: the parent location (null at the top)"
    )
    converted_monthly_cost = serializers.CharField(
        allow_null=True, help_text="In the reporting currency; null when the currency has no exchange rate"
    )


class CostAllocationSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """The response of the cost allocation endpoint."""

    as_of = serializers.DateField()
    group_by = serializers.ChoiceField(choices=allocation.GROUP_BY_CHOICES)
    reporting_currency = serializers.CharField()
    rows = CostAllocationRowSerializer(many=True)
    unallocated = serializers.DictField(
        child=serializers.CharField(), help_text="Per currency: active contracts with no assignment in force"
    )
    total = serializers.DictField(child=serializers.CharField(), help_text="Per currency: the monthly burn")
    converted_total = serializers.CharField(help_text="The total in the reporting currency, unconverted left out")
    unconverted = serializers.ListField(child=serializers.CharField(), help_text="Currencies with no exchange rate")


class CostAllocationView(APIView):
    """The monthly cost allocated to tenants, locations, cost centers or contracts on a date (read-only)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="plugins_contracts_cost_allocation_retrieve",
        parameters=[CostAllocationQuerySerializer],
        responses={200: CostAllocationSerializer},
        description=(
            "Each active contract's monthly cost split over its assignments in force in proportion to their "
            "allocation weight, grouped per currency, over the contracts and assignments you may view; the "
            "unallocated remainder and the total per currency. See the app's Cost allocation documentation."
        ),
    )
    def get(self, request):
        """Validate the query, then ask services.allocation."""
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied("You need permission to view contracts.")
        query = CostAllocationQuerySerializer(data=request.query_params, context={"request": request})
        if not query.is_valid():
            raise ValidationError(query.errors)
        params = query.validated_data
        result = allocation.allocation(
            params.get("as_of") or clock.today(),
            params["group_by"],
            user=request.user,
            currency=params.get("currency"),
            location=params.get("location"),
            tenant=params.get("tenant"),
        )
        return Response(allocation.allocation_dict(result))
