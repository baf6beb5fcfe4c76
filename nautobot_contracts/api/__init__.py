"""REST API for nautobot-contracts, mounted at /api/plugins/contracts/."""
