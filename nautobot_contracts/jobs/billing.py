"""Job: Reconcile invoices (billing periods against invoices, overdue invoices)."""

from nautobot.apps.choices import LogLevelChoices
from nautobot.apps.jobs import ObjectVar
from nautobot.tenancy.models import Tenant

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.jobs.base import (
    GROUPING,
    MAX_DAYS,
    ContractsJob,
    as_of_var,
    bounded_integer_var,
    csv_text,
    parse_date,
)
from nautobot_contracts.models import Contract, Invoice, ServiceProvider
from nautobot_contracts.services import billing
from nautobot_contracts.services.invoices import overdue_totals
from nautobot_contracts.services.money import money_str

name = GROUPING  # pylint: disable=invalid-name  # the Job grouping shown in Nautobot

CSV_COLUMNS = (
    "contract_id", "contract", "provider", "currency", "period_start", "period_end", "expected", "invoiced",
    "variance", "invoices", "state",
)  # fmt: skip


class ReconcileInvoices(ContractsJob):
    """Check every started billing period of Active and Expired contracts against its invoices."""

    as_of = as_of_var(description="Reconcile the periods started by this date (YYYY-MM-DD); empty means today")
    provider = ObjectVar(model=ServiceProvider, required=False, description="Only this provider's contracts")
    tenant = ObjectVar(model=Tenant, required=False, description="Only this tenant's contracts")
    grace_days = bounded_integer_var(
        min_value=0,
        max_value=MAX_DAYS,
        required=False,
        label="Grace (days)",
        description=f"Days after a period starts before a missing invoice is reported (0-{MAX_DAYS}); "
        "empty means the invoice_grace_days setting",
    )

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Reconcile invoices"
        description = (
            "Compares each billing period's expected amount with its invoices: missing, over- and under-billed "
            "periods, and overdue invoices. Attaches the problem periods as CSV."
        )
        read_only = True

    def run(self, as_of=None, provider=None, tenant=None, grace_days=None):  # pylint: disable=arguments-differ
        """Reconcile the contracts (and count the overdue invoices) the running user may view."""
        as_of = parse_date(as_of)
        grace_days = get_setting("invoice_grace_days") if grace_days is None else grace_days
        contracts = Contract.objects.all()
        invoices = Invoice.objects.all()
        if provider is not None:
            contracts = contracts.filter(provider=provider)
            invoices = invoices.filter(contract__provider=provider)
        if tenant is not None:
            contracts = contracts.filter(tenant=tenant)
            invoices = invoices.filter(contract__tenant=tenant)
        summary = billing.reconcile(as_of, user=self.user, queryset=contracts, grace_days=grace_days)
        overdue_count, overdue_amounts = overdue_totals(as_of, user=self.user, queryset=invoices)

        rows = [self._row(contract, period) for contract, period in summary.problems]
        self.log_lines(
            self._log_line(contract, period, row)
            for (contract, period), row in zip(summary.problems, rows, strict=True)
        )
        counts = summary.counts
        self.logger.info(
            "%d contract(s), %d billing period(s) started by %s (grace %d days): %d missing, %d over-billed, "
            "%d under-billed, %d pending, %d ok; %d overdue invoice(s).",
            summary.contracts_checked,
            summary.periods_checked,
            as_of.isoformat(),
            grace_days,
            counts[billing.STATE_MISSING],
            counts[billing.STATE_OVER],
            counts[billing.STATE_UNDER],
            counts[billing.STATE_PENDING],
            counts[billing.STATE_OK],
            overdue_count,
        )
        self.create_file(f"invoice-reconciliation-{as_of.isoformat()}.csv", csv_text(CSV_COLUMNS, rows))
        return {
            "as_of": as_of.isoformat(),
            "contracts_checked": summary.contracts_checked,
            "periods_checked": summary.periods_checked,
            "missing": counts[billing.STATE_MISSING],
            "over": counts[billing.STATE_OVER],
            "under": counts[billing.STATE_UNDER],
            "overdue_invoices": overdue_count,
            "overdue_amount": {currency: money_str(amount) for currency, amount in overdue_amounts.items()},
            "variance_to_date": {currency: money_str(amount) for currency, amount in summary.variance_to_date.items()},
        }

    @staticmethod
    def _row(contract, period):
        return {
            "contract_id": str(contract.contract_id),
            "contract": contract.name,
            "provider": contract.provider,
            "currency": contract.currency,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "expected": money_str(period.expected),
            "invoiced": money_str(period.invoiced),
            "variance": money_str(period.variance),
            "invoices": period.invoice_count,
            "state": period.state,
        }

    @staticmethod
    def _log_line(contract, period, row):
        """One warning per problem period, linked to its contract (an unsaved instance: its URL needs only the pk)."""
        if period.state == billing.STATE_MISSING:
            what = f"no invoice, {row['expected']} {row['currency']} expected"
        else:
            billed = "over-billed" if period.state == billing.STATE_OVER else "under-billed"
            what = (
                f"{billed}: invoiced {row['invoiced']} against {row['expected']} expected "
                f"({row['variance']} {row['currency']}, {period.invoice_count} invoice(s))"
            )
        message = (
            f"{period.state.upper()}: {row['contract']} ({row['provider']}), "
            f"{row['period_start']} to {row['period_end']}: {what}."
        )
        return LogLevelChoices.LOG_WARNING, message, Contract(pk=contract.contract_id, name=contract.name)


jobs = (ReconcileInvoices,)
