"""Open311 GeoReport v2 at /open311/v2 (discovery at /open311/discovery.json|xml)."""
