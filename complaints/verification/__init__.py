"""Phone verification: the tourist proves the number with a one-time code (SAMR Order 121)."""
