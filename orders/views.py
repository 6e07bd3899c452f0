"""The packing bench: shipped orders at the packer's location, and the units a packer
could not find (stub: built by the packing work)."""
