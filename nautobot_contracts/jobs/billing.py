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

# Warnings logged one per problem period, at most this many (a badly kept estate can have tens of thousands, whose
# log entries would cost more than the reconciliation); the CSV always lists every problem period.
MAX_WARNINGS = 1000
_PK_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

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

        contract_ids = {}  # one str(UUID) per contract, not per problem period
        rows = [self._row(contract, period, contract_ids) for contract, period in summary.problems]
        url = Contract(pk=_PK_PLACEHOLDER).get_absolute_url()  # one reverse() for every line's link
        lines = [
            self._log_line(contract, period, row, url)
            for (contract, period), row in zip(summary.problems[:MAX_WARNINGS], rows, strict=False)
        ]
        if len(rows) > MAX_WARNINGS:
            more = len(rows) - MAX_WARNINGS
            message = f"... and {more} more problem period(s): the attached CSV lists all {len(rows)}."
            lines.append((LogLevelChoices.LOG_WARNING, message, None))
        self.log_lines(lines)
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
    def _row(contract, period, contract_ids):
        contract_id = contract_ids.get(contract.contract_id)
        if contract_id is None:
            contract_id = contract_ids[contract.contract_id] = str(contract.contract_id)
        return {
            "contract_id": contract_id,
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
    def _log_line(contract, period, row, url_template):
        """One warning per problem period, linked to its contract."""
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
        return LogLevelChoices.LOG_WARNING, message, LogTarget(contract.name, url_template, contract.contract_id)


class LogTarget:
    """What a log line links to: the contract's name and URL, without building a model instance per line."""

    def __init__(self, name, url_template, pk):
        self.name = name
        self.url = url_template.replace(_PK_PLACEHOLDER, str(pk))

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        """The contract's page."""
        return self.url


jobs = (ReconcileInvoices,)
