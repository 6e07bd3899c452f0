"""What the catalogue announces to the apps above it, which it cannot import.

- ``sku_becoming_kit(sku=)``: sent inside the transaction that makes a SKU a kit,
  before anything is written. A kit holds no stock of its own, so inventory answers
  it by raising when the SKU holds stock or is promised somewhere
  (``inventory.receivers``); the raise rolls the change back.
"""

from django.dispatch import Signal

sku_becoming_kit = Signal()
