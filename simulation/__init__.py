"""A trading day of omnichannel retail, simulated against the real system: a generated
network, a day's demand drawn from a seed, simulated shoppers, tills and store staff
driving the real API and services, and a report of the numbers the business cares
about (orders, oversells, cancellations, lost sales, pickups on time, record
accuracy, exceptions) for each policy compared."""
