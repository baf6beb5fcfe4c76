"""Data models of nautobot-contracts: one module per concept."""

from nautobot_contracts.models.alerts import ContractAlert
from nautobot_contracts.models.assignments import ContractAssignment
from nautobot_contracts.models.attachments import ContractAttachment, InvoiceAttachment
from nautobot_contracts.models.budgets import Budget
from nautobot_contracts.models.contracts import Contract
from nautobot_contracts.models.exchange_rates import ExchangeRate
from nautobot_contracts.models.feed_tokens import FeedToken
from nautobot_contracts.models.invoices import Invoice
from nautobot_contracts.models.providers import ServiceProvider
from nautobot_contracts.models.snapshots import CostSnapshot

__all__ = (
    "Budget",
    "Contract",
    "ContractAlert",
    "ContractAssignment",
    "ContractAttachment",
    "CostSnapshot",
    "ExchangeRate",
    "FeedToken",
    "Invoice",
    "InvoiceAttachment",
    "ServiceProvider",
)
