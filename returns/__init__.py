"""Returns across channels, inspected before restock (to come)."""
