"""What the catalogue announces to the apps above it, which it cannot import.

- ``sku_becoming_kit(sku=)``: sent inside the transaction that makes a SKU a kit,
  before anything is written. A kit holds no stock of its own, so inventory answers
  it by raising when the SKU holds stock or is promised somewhere
  (``inventory.receivers``); the raise rolls the change back.
- ``kit_redefined(sku=, components=)``: sent inside the transaction that changed a
  kit's components (``components``: the ids of its parts before and after). What the
  kit can sell changed with no stock moving, so inventory announces the parts'
  balances again: the kit's row goes out with them to the feed and the webhooks.
"""

from django.dispatch import Signal

sku_becoming_kit = Signal()
kit_redefined = Signal()
