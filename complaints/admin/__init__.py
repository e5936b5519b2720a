"""Administration: onboarding enterprises and outlets in bulk, the admin screens, bulk posters
and the audit log of every administrative change."""
