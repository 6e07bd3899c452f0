"""Orders: web, app and marketplace orders as claims on real units (to come)."""
