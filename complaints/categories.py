"""Tourism complaint categories, shared by outlets, complaints and routing rules."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Category(StrEnum):
    LODGING = "lodging"
    CATERING = "catering"
    SHOPPING = "shopping"
    ATTRACTIONS = "attractions"
    TRANSPORT = "transport"
    TRAVEL_AGENCY = "travel_agency"
    ENTERTAINMENT = "entertainment"
    OTHER = "other"

    @property
    def label(self):
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.LODGING: _l("Lodging"),
    Category.CATERING: _l("Catering"),
    Category.SHOPPING: _l("Shopping"),
    Category.ATTRACTIONS: _l("Attractions and tickets"),
    Category.TRANSPORT: _l("Transport and taxi"),
    Category.TRAVEL_AGENCY: _l("Travel agency and tours"),
    Category.ENTERTAINMENT: _l("Entertainment"),
    Category.OTHER: _l("Other"),
}
