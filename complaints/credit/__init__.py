"""Merchant credit: events, scores and grades, the trusted and serious lists, repair."""
