"""Inventory: the locations that hold stock (and, in later work, the stock ledger)."""
