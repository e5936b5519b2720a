"""/api/v1/statistics: complaint counts for the key's agency or merchant."""

from datetime import datetime, time

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from complaints.api.auth import current_principal, requires
from complaints.api.schemas import StatisticsOut, StatisticsQuery
from complaints.api.scope import is_regulator, require_tenant
from complaints.apikeys.models import Scope
from complaints.cases.models import Case
from complaints.clock import LOCAL_ZONE
from complaints.database import utcnow
from complaints.extensions import db
from complaints.timers.models import CaseDeadline
from workflows.states import OPEN_STATES, CaseState

blp = Blueprint("api_statistics", __name__, url_prefix="/statistics", description="Statistics")


@blp.route("")
class Statistics(MethodView):
    @requires(Scope.CASES_READ)
    @blp.arguments(StatisticsQuery, location="query")
    @blp.response(200, StatisticsOut)
    def get(self, args):
        """Cases by state and category, open cases, and running deadlines already passed."""
        require_tenant()
        principal = current_principal()
        scope = (
            Case.agency_id == principal.agency_id
            if is_regulator()
            else (Case.enterprise_id == principal.enterprise_id)
        )
        conditions = [scope]
        if args.get("since"):
            start = datetime.combine(args["since"], time.min, tzinfo=LOCAL_ZONE)
            conditions.append(Case.created_at >= start)
        if args.get("until"):
            end = datetime.combine(args["until"], time.max, tzinfo=LOCAL_ZONE)
            conditions.append(Case.created_at <= end)
        by_state = dict(
            db.session.execute(
                select(Case.state, func.count()).where(*conditions).group_by(Case.state)
            ).all()
        )
        by_category = dict(
            db.session.execute(
                select(Case.category, func.count()).where(*conditions).group_by(Case.category)
            ).all()
        )
        overdue = db.session.scalar(
            select(func.count())
            .select_from(CaseDeadline)
            .join(Case, Case.id == CaseDeadline.case_id)
            .where(
                *conditions,
                CaseDeadline.closed_at.is_(None),
                CaseDeadline.state == Case.state,
                CaseDeadline.due_at < utcnow(),
            )
        )
        return {
            "total": sum(by_state.values()),
            "open": sum(n for s, n in by_state.items() if CaseState(s) in OPEN_STATES),
            "by_state": [{"key": str(k), "count": n} for k, n in sorted(by_state.items())],
            "by_category": [{"key": str(k), "count": n} for k, n in sorted(by_category.items())],
            "overdue_deadlines": overdue or 0,
        }
