"""/api/v1/credit: the trusted and serious lists and the feed of grade and list changes."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from complaints.api import paging
from complaints.api.auth import requires
from complaints.api.schemas import CreditChangePageOut, CreditChangeQuery, ListPageOut, PageQuery
from complaints.apikeys.models import Scope
from complaints.credit_exchange import services

blp = Blueprint("api_credit", __name__, url_prefix="/credit", description="Credit lists")


def _list_page(kind: str, read, serious: bool, args):
    rows = read(paging.last_id(kind, args.get("after")), args["limit"] + 1)
    rows, cursor = paging.trim(kind, rows, args["limit"], lambda row: row[0].id)
    return paging.page([services.list_entry(e, s, serious) for e, s in rows], cursor)


@blp.route("/trusted")
class TrustedList(MethodView):
    @requires(Scope.CREDIT_READ)
    @blp.arguments(PageQuery, location="query", unknown=RAISE)
    @blp.response(200, ListPageOut)
    def get(self, args):
        """Merchants on the trusted list (the fund pays their tourists first)."""
        return _list_page("trusted", services.trusted_list, False, args)


@blp.route("/serious")
class SeriousList(MethodView):
    @requires(Scope.CREDIT_READ)
    @blp.arguments(PageQuery, location="query", unknown=RAISE)
    @blp.response(200, ListPageOut)
    def get(self, args):
        """Merchants on the serious dishonesty list, with the date they entered it."""
        return _list_page("serious", services.serious_list, True, args)


@blp.route("/changes")
class CreditChanges(MethodView):
    @requires(Scope.CREDIT_READ)
    @blp.arguments(CreditChangeQuery, location="query", unknown=RAISE)
    @blp.response(200, CreditChangePageOut)
    def get(self, args):
        """Grade changes and serious-list entries and exits, oldest first (a feed to follow)."""
        rows = services.changes(
            paging.last_id("changes", args.get("after")), args["limit"] + 1, args.get("since")
        )
        rows, cursor = paging.trim("changes", rows, args["limit"])
        return paging.page([services.change_entry(c) for c in rows], cursor)
