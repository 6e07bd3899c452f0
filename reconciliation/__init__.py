"""Reconciliation: checks of every stored projection against its source (to come)."""
