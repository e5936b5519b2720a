"""Import files for the admin tests: CSV and XLSX written from rows, valid codes made here."""

import csv
import io

from openpyxl import Workbook

from complaints.merchants.uscc import make_uscc

SEAFOOD = make_uscc("MA1AAAA1", division="460203")
HOTEL = make_uscc("MA1AAAA2", division="460100")
# Same code with a wrong check character: the only fault, so an override may accept it.
BAD_CHECK = SEAFOOD[:-1] + ("0" if SEAFOOD[-1] != "0" else "1")

ENTERPRISE_HEADER = [
    "uscc",
    "name_zh",
    "name_en",
    "division_code",
    "contact_phone",
    "contact_email",
    "answers_first",
    "notify_language",
]
OUTLET_HEADER = [
    "uscc",
    "name_zh",
    "name_en",
    "category",
    "division_code",
    "address",
    "lat",
    "long",
]


def good_enterprises() -> list[list[str]]:
    return [
        [SEAFOOD, "三亚测试海鲜店", "Test Seafood", "460203", "13800138000", "a@b.cn", "是", "zh"],
        [HOTEL, "海口测试酒店", "", "460100", "", "", "", ""],
    ]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(header: list, rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
