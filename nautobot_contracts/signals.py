"""Signal handlers: statuses created on database ready, attachment files removed after commit."""
