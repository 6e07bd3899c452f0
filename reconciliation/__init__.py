"""Reconciliation: the exception queue every disagreement between the records and the
world lands in, blind cycle counts, and Inventory Record Accuracy."""
