"""Store pickup: the click-and-collect queue a store's staff work, from the order
placed to the customer's hands (tasks, their problems, the customer's messages),
kept in step with its order; the store screens under /store/ and the beat jobs that
remind, expire and escalate."""
