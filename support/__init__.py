"""Customer service's screens: find an order and read its whole story (reads only)."""
