"""Orders: web, app and marketplace orders as claims on real units, line by line,
each line fulfilled at the location routing (or the checkout's hold, the pickup
store, the channel) chose, moved on through picking, shipping or collection, with
one timeline of everything that happened to it."""
