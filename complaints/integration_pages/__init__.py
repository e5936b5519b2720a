"""The people-facing side of integration: API keys and webhook endpoints with their delivery
log, for agency admins (/console/integrations) and merchant owners (/merchant/integrations)."""
