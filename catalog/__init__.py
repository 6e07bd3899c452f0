"""The catalogue: products, SKUs and the sales channels that sell them."""
