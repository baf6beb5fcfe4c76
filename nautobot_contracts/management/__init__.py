"""Management commands of nautobot-contracts."""
