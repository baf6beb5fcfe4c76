"""nautobot-server commands: load_contracts_demo_data."""
