"""The shared kernel: settings, database, accounts, money, the event bus, time and errors.

It imports no domain package; shop, live and community build on it.
"""
