"""Invoice rules shared by billing, alerts and the dashboard: when an invoice is overdue (docs/models/invoice.md)."""

from django.db.models import DateField, F, Func, IntegerField, Q, Value

from nautobot_contracts.services.access import restrict

OPEN_STATUS = "Open"


def overdue_q(as_of, prefix=""):
    """Overdue on `as_of`: status Open and `due_date < as_of` (an invoice without a due date is never overdue)."""
    return Q(**{f"{prefix}status__name": OPEN_STATUS, f"{prefix}due_date__lt": as_of})


class _DaysBetween(Func):
    """`later - earlier` for two dates: an integer number of days in PostgreSQL.

    A Func rather than the `-` operator, which Django turns into an interval for date fields.
    """

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


def days_overdue_expression(as_of, prefix=""):
    """`as_of - due_date` in days, as a database expression (meaningful only for overdue invoices)."""
    return _DaysBetween(Value(as_of, output_field=DateField()), F(f"{prefix}due_date"))


def days_overdue(invoice, as_of):
    """Days an invoice is overdue on `as_of`, or 0 when it is not overdue."""
    if invoice.due_date is None or invoice.due_date >= as_of or invoice.status.name != OPEN_STATUS:
        return 0
    return (as_of - invoice.due_date).days


def overdue_invoices(as_of, user=None, queryset=None):
    """The invoices overdue on `as_of` that `user` may view, annotated with `days_overdue`."""
    from nautobot_contracts.models import Invoice  # pylint: disable=import-outside-toplevel

    queryset = Invoice.objects.all() if queryset is None else queryset
    return restrict(queryset, user).filter(overdue_q(as_of)).annotate(days_overdue=days_overdue_expression(as_of))


def overdue_totals(as_of, user=None, queryset=None):
    """(count, {currency: unrounded amount}) of the invoices overdue on `as_of` that `user` may view: one query."""
    from django.db.models import Count, Sum  # pylint: disable=import-outside-toplevel

    rows = (
        overdue_invoices(as_of, user=user, queryset=queryset)
        .order_by()
        .values("currency")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    amounts = {}
    count = 0
    for row in rows:
        amounts[row["currency"]] = row["amount"]
        count += row["count"]
    return count, dict(sorted(amounts.items()))
