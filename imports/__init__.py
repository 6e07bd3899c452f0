"""File imports and exports: the retailer's products, SKUs, locations, opening stock,
counts and snapshots moved as CSV or JSON Lines files (docs/imports.md)."""
