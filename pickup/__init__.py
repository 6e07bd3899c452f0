"""Store pickup: the click-and-collect queue staff work (to come)."""
