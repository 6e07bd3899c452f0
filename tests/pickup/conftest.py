"""Pickup stories use the shared ``shop`` (tests/conftest.py): Oxford Street with two
pickers, Camden with one, a manager over every store; ``pickup_order`` and ``stock``
live with the factories."""
