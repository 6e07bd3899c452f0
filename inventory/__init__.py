"""Inventory: the locations that hold stock and the staff who work there, the stock
ledger and its balances, checkouts' holds (reservations), transfers between
locations, and how the sources that send stock events keep in touch."""
