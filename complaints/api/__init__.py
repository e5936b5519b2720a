"""The JSON API under /api/v1: the same services, permissions and audit as the pages."""
