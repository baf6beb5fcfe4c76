"""The app's Jobs, grouped under "Contracts". Each module exposes `jobs = (...)`; all are registered here."""

from nautobot.apps.jobs import register_jobs

from nautobot_contracts.jobs import billing, costs, coverage, imports, renewals

jobs = (
    *renewals.jobs,
    *costs.jobs,
    *coverage.jobs,
    *imports.jobs,
    *billing.jobs,
)

register_jobs(*jobs)
