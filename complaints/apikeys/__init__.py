"""API keys: who a machine is, which tenant it belongs to and what it may do."""
