"""Shop: catalog, checkout, the escrow ledger, orders, disputes, commissions and payouts.

This package root is shop's public API for live and community.
"""
