"""The regulator console: an agency's queue of cases and the case page with its actions."""
