"""The app's Jobs, grouped under "Contracts". Each module exposes `jobs = (...)`; all are registered here."""

from nautobot.apps.jobs import register_jobs

from nautobot_contracts.jobs import allocation, billing, costs, coverage, imports, invoices, renewals
from nautobot_contracts.jobs.notifications import jobs as notification_jobs

jobs = (
    *renewals.jobs,
    *costs.jobs,
    *invoices.jobs,
    *coverage.jobs,
    *imports.jobs,
    *notification_jobs,
    *billing.jobs,
    *allocation.jobs,
)

register_jobs(*jobs)
