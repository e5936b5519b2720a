"""Personal data retention, the tourist's requests to see or erase their data (issue 11.17)."""
