"""Reconciliation: the exception queue every disagreement between the records and the
world lands in, blind cycle counts, the nightly reconciliation of the balances and
the channels' stock snapshots against the ledger, and what the dashboard reads from
them: Inventory Record Accuracy and the rate of sale."""
