"""Delivery channels (console, Twilio SMS, SMTP email) behind one small interface.

The package delivers messages that are already rendered; it knows nothing of complaints,
users, languages or the database. Pick a backend by name with `create_channel`.
"""

from notifications.base import (
    Channel,
    DeliveryError,
    DeliveryReceipt,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifications.registry import available_backends, create_channel, register

__all__ = [
    "Channel",
    "DeliveryError",
    "DeliveryReceipt",
    "OutgoingMessage",
    "PermanentDeliveryError",
    "TransientDeliveryError",
    "available_backends",
    "create_channel",
    "register",
]
