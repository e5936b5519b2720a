"""Local time for Hainan: working days and case numbers follow the local date."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from complaints.database import utcnow

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL_ZONE).date()
