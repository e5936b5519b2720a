"""Code-based mobile supervision: an inspector scans an outlet's code and records an inspection."""
