"""Channel sync: every change of a SKU's availability at a location pushed to the
channels that subscribe (webhook subscriptions, signed deliveries in feed order,
retries, the failing state and re-sending), the change feed for channels that pull,
and the check that each source is still heard from. The outbox of changes and the
sources' health are inventory's records; docs/sync.md describes it all."""
