"""Outbound webhooks (Standard Webhooks): subscriptions, signed deliveries through the outbox
and RQ, exponential backoff for three days, in order per case, a delivery log with replay."""
