"""Sharing the app with strangers: visitor identity, limits, budgets on the owner's key, fetching a visitor's URL
safely."""
