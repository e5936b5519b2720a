"""Which policy is in force at a moment: the environment's values, overridden by the newest
version whose effective time has come. Parsed policies are cached by their values.

Storage and timing only: the workflow policy (time limits, scoped per agency and category) is
parsed by complaints.timers.services and the credit policy by complaints.credit.policy, each
asking `versioned_values` here; this module imports neither.
"""

import json
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from complaints.database import utcnow
from complaints.extensions import db
from complaints.policies.models import PolicyVersion

WORKFLOW = "workflow"
CREDIT = "credit"
CONFIG_KEYS = {WORKFLOW: "WORKFLOW_POLICY", CREDIT: "CREDIT_POLICY"}


class PolicyRefused(ValueError):
    pass


def environment_values(kind: str) -> dict:
    return dict(current_app.config.get(CONFIG_KEYS[kind]) or {})


def version_at(kind: str, at: datetime | None = None) -> PolicyVersion | None:
    return db.session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.kind == kind, PolicyVersion.effective_from <= (at or utcnow()))
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.id.desc())
        .limit(1)
    )


def versioned_values(kind: str, at: datetime | None = None) -> dict | None:
    """The environment's values with the version in force at ``at`` over them; None when no
    version is in force (the environment alone decides)."""
    version = version_at(kind, at)
    if version is None:
        return None
    return {**environment_values(kind), **version.values}


def cached(kind: str, values: dict, parse: Callable[[dict], object]):
    """``parse(values)``, kept per process for as long as the values stay the same."""
    key = (kind, json.dumps(values, sort_keys=True, default=str))
    cache = current_app.extensions.setdefault("anxin_policies", {})
    if key not in cache:
        cache[key] = parse(values)
    return cache[key]


def add_version(
    kind: str,
    values: dict,
    effective_from: datetime,
    actor: str,
    reason: str,
    *,
    parse: Callable[[dict], object],
):
    """A new version once ``parse`` accepts it over the environment's values (the feature that
    owns the policy parses it); the caller audits and commits. Flushes."""
    if kind not in CONFIG_KEYS:
        raise PolicyRefused(f"unknown policy kind {kind!r}")
    if not isinstance(values, dict):
        raise PolicyRefused("the values must be a JSON object of policy keys")
    try:
        parse({**environment_values(kind), **values})
    except (ValueError, TypeError) as exc:
        raise PolicyRefused(str(exc)) from None
    version = PolicyVersion(
        kind=kind, values=values, effective_from=effective_from, created_by=actor, reason=reason
    )
    db.session.add(version)
    db.session.flush()
    return version


def history(kind: str) -> list[PolicyVersion]:
    return list(
        db.session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind)
            .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.id.desc())
        )
    )
