"""Payment and payout providers behind small interfaces; the sandbox ships, a real provider plugs in."""
