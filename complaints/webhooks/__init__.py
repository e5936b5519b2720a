"""Requests Twilio sends us: delivery status callbacks and inbound SMS."""
