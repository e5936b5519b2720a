"""Which policy is in force at a moment: the environment's values, overridden by the newest
version whose effective time has come. Parsed policies are cached by their values."""

import json
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


# Policy kinds other than the workflow's register their class at the composition root
# (complaints.app), so the timers that read the workflow policy never import those features.
_POLICY_CLASSES: dict[str, type] = {}


def register_policy_class(kind: str, policy_class: type) -> None:
    _POLICY_CLASSES[kind] = policy_class


def _policy_class(kind: str):
    if kind == WORKFLOW:
        # The province's limits with their agency and category scopes (workflows.policy).
        from workflows.policy import PolicySet

        return PolicySet
    return _POLICY_CLASSES[kind]


def environment_values(kind: str) -> dict:
    return dict(current_app.config.get(CONFIG_KEYS[kind]) or {})


def version_at(kind: str, at: datetime) -> PolicyVersion | None:
    return db.session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.kind == kind, PolicyVersion.effective_from <= at)
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.id.desc())
        .limit(1)
    )


def policy_at(kind: str, at: datetime | None = None):
    """The parsed policy in force at ``at`` (now by default)."""
    version = version_at(kind, at or utcnow())
    values = {**environment_values(kind), **(version.values if version else {})}
    # Keyed by the values themselves: ids repeat when a test database is emptied.
    key = (kind, json.dumps(values, sort_keys=True, default=str))
    cache = current_app.extensions.setdefault("anxin_policies", {})
    if key not in cache:
        cache[key] = _policy_class(kind).from_mapping(values)
    return cache[key]


def add_version(kind: str, values: dict, effective_from: datetime, actor: str, reason: str):
    """A new version after checking it parses; the caller audits and commits. Flushes."""
    if kind not in CONFIG_KEYS:
        raise PolicyRefused(f"unknown policy kind {kind!r}")
    if not isinstance(values, dict):
        raise PolicyRefused("the values must be a JSON object of policy keys")
    try:
        _policy_class(kind).from_mapping({**environment_values(kind), **values})
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
