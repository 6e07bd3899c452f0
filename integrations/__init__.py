"""Integrations: the API tokens that POS, web shop, WMS and marketplaces authenticate with."""
