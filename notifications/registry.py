"""Backends by name, so configuration (SMS_BACKEND=twilio_sms) picks the class.

Modelled on Redash's query-runner registry: each backend module registers its class when
imported. The built-in modules are imported lazily so that merely importing `notifications`
does not pull in the Twilio SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from notifications.base import Channel

_BUILTIN_MODULES = (
    "notifications.console",
    "notifications.twilio_sms",
    "notifications.smtp_email",
)

_backends: dict[str, type] = {}

T = TypeVar("T", bound=type)


def register(name: str) -> Callable[[T], T]:
    def decorator(cls: T) -> T:
        existing = _backends.get(name)
        # Re-registering the same class happens when a module is reloaded; a different class
        # under the same name would silently change which backend configuration selects.
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"notification backend {name!r} is already registered to {existing}")
        _backends[name] = cls
        cls.backend_name = name
        return cls

    return decorator


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def available_backends() -> list[str]:
    _load_builtins()
    return sorted(_backends)


def create_channel(name: str, settings: Mapping[str, Any] | None = None) -> Channel:
    """Build the named backend from settings; ValueError names what is unknown or missing."""
    _load_builtins()
    try:
        cls = _backends[name]
    except KeyError:
        known = ", ".join(sorted(_backends))
        raise ValueError(f"unknown notification backend {name!r}; available: {known}") from None
    return cls(settings or {})
