"""Job: Cost allocation report (the rule lives in services.allocation)."""

from nautobot.apps.jobs import ChoiceVar

from nautobot_contracts.jobs.base import GROUPING, ContractsJob, as_of_var, csv_text, parse_date
from nautobot_contracts.services import allocation
from nautobot_contracts.services.money import money_str

name = GROUPING  # pylint: disable=invalid-name  # the Job grouping shown in Nautobot

# JobResult.result keeps at most this many rows (a report by contract can have thousands); the CSV has them all.
RESULT_ROWS = 1000
CSV_COLUMNS = ("id", "name", "object_type", "currency", "monthly_cost", "converted_monthly_cost")
LOCATION_CSV_COLUMNS = (
    "id", "name", "parent_id", "currency", "monthly_cost", "own_monthly_cost", "converted_monthly_cost",
)  # fmt: skip


class CostAllocationReport(ContractsJob):
    """The monthly cost allocated to tenants, locations, cost centers or contracts on a date, with a CSV."""

    as_of = as_of_var(description="Allocation date (YYYY-MM-DD); empty means today")
    group_by = ChoiceVar(
        choices=allocation.GROUP_BY_CHOICES,
        default=allocation.GROUP_BY_TENANT,
        required=False,
        label="Group by",
        description="Rows per tenant, location (including descendants), cost center or contract",
    )

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Cost allocation report"
        description = (
            "Each active contract's monthly cost split over its assignments in force by allocation weight, per "
            "tenant, location, cost center or contract and currency; the unallocated remainder and the totals. "
            "Attaches the rows as CSV."
        )
        read_only = True

    def run(self, as_of=None, group_by=None):  # pylint: disable=arguments-differ
        """Allocate over what the running user may view; log the totals, attach the CSV, return the figures."""
        as_of = parse_date(as_of)
        group_by = group_by or allocation.GROUP_BY_TENANT
        data = allocation.allocation_dict(allocation.allocation(as_of, group_by, user=self.user))
        for currency, total in data["total"].items():
            self.logger.info(
                "%s: monthly cost %s, of which %s unallocated (no assignment in force).",
                currency,
                total,
                data["unallocated"].get(currency, money_str(0)),
            )
        self.logger.info(
            "Total on %s: %s %s over %d row(s) by %s.",
            as_of.isoformat(),
            data["converted_total"],
            data["reporting_currency"],
            len(data["rows"]),
            group_by,
        )
        if data["unconverted"]:
            self.logger.warning(
                "No exchange rate into %s on or before %s for %s: left out of the converted total.",
                data["reporting_currency"],
                as_of.isoformat(),
                ", ".join(data["unconverted"]),
            )
        columns = LOCATION_CSV_COLUMNS if group_by == allocation.GROUP_BY_LOCATION else CSV_COLUMNS
        self.create_file(f"cost-allocation-{group_by}-{as_of.isoformat()}.csv", csv_text(columns, csv_rows(data)))
        row_count = len(data["rows"])
        data["rows"] = data["rows"][:RESULT_ROWS]
        data["row_count"] = row_count
        return data


def csv_rows(data):
    """The rows, then one "(unallocated)" and one "(total)" line per currency."""
    rows = list(data["rows"])
    for label, amounts in (("(unallocated)", data["unallocated"]), ("(total)", data["total"])):
        rows += [{"name": label, "currency": code, "monthly_cost": amount} for code, amount in amounts.items()]
    return rows


jobs = (CostAllocationReport,)
