"""Credit data exchange (joint punishment): grade and list changes as a feed, the trusted and
serious lists as API resources and signed daily exports a credit platform can ingest."""
