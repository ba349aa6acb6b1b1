"""Money: the double-entry ledger, escrow, commission splits, payouts and the payment providers."""
