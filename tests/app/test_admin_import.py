"""`flask enterprises import` and `flask outlets import`: every reject reason, idempotency,
dry runs, all-or-nothing, XLSX and Chinese headers, and the audit of each change."""

import pytest
from sqlalchemy import func, select

from complaints.admin.models import AdminChange
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet
from tests.app.admin_files import (
    BAD_CHECK,
    ENTERPRISE_HEADER,
    HOTEL,
    OUTLET_HEADER,
    SEAFOOD,
    csv_bytes,
    good_enterprises,
    xlsx_bytes,
)


def _import(runner, tmp_path, group, content: bytes, *options, name="rows.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return runner.invoke(args=[group, "import", str(path), *options])


def _last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_good_file_imports_and_a_second_run_changes_nothing(runner, seeded, tmp_path):
    before = _count(Enterprise)
    content = csv_bytes(ENTERPRISE_HEADER, good_enterprises())
    first = _import(runner, tmp_path, "enterprises", content)
    assert first.exit_code == 0, first.output
    assert _last_line(first) == "imported 2, updated 0, unchanged 0, rejected 0"
    second = _import(runner, tmp_path, "enterprises", content)
    assert second.exit_code == 0
    assert _last_line(second) == "imported 0, updated 0, unchanged 2, rejected 0"
    assert _count(Enterprise) == before + 2
    seafood = db.session.scalar(select(Enterprise).where(Enterprise.uscc == SEAFOOD))
    assert seafood.contact_phone == "+8613800138000"
    assert seafood.answers_first is True
    assert _count(AdminChange) == 2  # the two creations, nothing for the unchanged run


def test_a_changed_row_updates_and_is_audited_with_before_and_after(runner, seeded, tmp_path):
    _import(runner, tmp_path, "enterprises", csv_bytes(ENTERPRISE_HEADER, good_enterprises()))
    rows = good_enterprises()
    rows[1][1] = "海口测试大酒店"
    result = _import(
        runner,
        tmp_path,
        "enterprises",
        csv_bytes(ENTERPRISE_HEADER, rows),
        "--reason",
        "renamed per licence",
        "--by",
        "clerk@amr.test",
    )
    assert _last_line(result) == "imported 0, updated 1, unchanged 1, rejected 0"
    change = db.session.scalar(
        select(AdminChange).where(AdminChange.action == "update", AdminChange.subject_key == HOTEL)
    )
    assert change.before == {"name_zh": "海口测试酒店"}
    assert change.after == {"name_zh": "海口测试大酒店"}
    assert change.actor == "clerk@amr.test"
    assert change.reason == "renamed per licence"


REJECTS = [
    # (row, column, words in the reason)
    ([BAD_CHECK, "名", "", "460203", "", "", "", ""], "uscc", "check character"),
    (["91460203MA1AAAA1", "名", "", "460203", "", "", "", ""], "uscc", "characters"),
    (["", "名", "", "460203", "", "", "", ""], "uscc", "required"),
    ([SEAFOOD, "", "", "460203", "", "", "", ""], "name_zh", "required"),
    ([SEAFOOD, "名" * 129, "", "460203", "", "", "", ""], "name_zh", "Too long"),
    ([SEAFOOD, "名", "", "110101", "", "", "", ""], "division_code", "Hainan"),
    ([SEAFOOD, "名", "", "", "", "", "", ""], "division_code", "required"),
    ([SEAFOOD, "名", "", "460203", "12345", "", "", ""], "contact_phone", "phone"),
    ([SEAFOOD, "名", "", "460203", "", "not-an-email", "", ""], "contact_email", "e-mail"),
    ([SEAFOOD, "名", "", "460203", "", "", "maybe", ""], "answers_first", "yes or no"),
    ([SEAFOOD, "名", "", "460203", "", "", "", "fr"], "notify_language", "zh or en"),
]


@pytest.mark.parametrize(("row", "column", "words"), REJECTS)
def test_each_reject_reason_names_line_and_column(runner, seeded, tmp_path, row, column, words):
    rows = [good_enterprises()[1], row]
    result = _import(runner, tmp_path, "enterprises", csv_bytes(ENTERPRISE_HEADER, rows))
    assert result.exit_code == 1
    assert _last_line(result) == "imported 1, updated 0, unchanged 0, rejected 1"
    assert f"line 3, column {column}: " in result.output
    assert words in result.output


def test_a_code_repeated_in_the_file_is_rejected_with_the_first_line(runner, seeded, tmp_path):
    rows = [*good_enterprises(), [HOTEL, "重复", "", "460100", "", "", "", ""]]
    result = _import(runner, tmp_path, "enterprises", csv_bytes(ENTERPRISE_HEADER, rows))
    assert "line 4, column uscc: The same row appears again: first on line 3." in result.output
    assert result.exit_code == 1


def test_a_check_character_override_needs_a_reason_and_is_recorded(runner, seeded, tmp_path):
    header = [*ENTERPRISE_HEADER, "uscc_override_reason"]
    row = [BAD_CHECK, "早期试点商户", "", "460203", "", "", "", "", "licence seen, pilot code"]
    result = _import(runner, tmp_path, "enterprises", csv_bytes(header, [row]), "--by", "a@b.c")
    assert result.exit_code == 0, result.output
    accepted = db.session.scalar(select(Enterprise).where(Enterprise.uscc == BAD_CHECK))
    assert accepted.uscc_override_reason == "licence seen, pilot code"
    assert accepted.uscc_override_by == "a@b.c"


def test_dry_run_counts_but_changes_nothing(runner, seeded, tmp_path):
    before = _count(Enterprise)
    content = csv_bytes(ENTERPRISE_HEADER, good_enterprises())
    result = _import(runner, tmp_path, "enterprises", content, "--dry-run")
    assert result.exit_code == 0
    assert "dry run" in result.output
    assert _last_line(result) == "imported 2, updated 0, unchanged 0, rejected 0"
    assert _count(Enterprise) == before
    assert _count(AdminChange) == 0


def test_all_or_nothing_refuses_the_whole_file(runner, seeded, tmp_path):
    before = _count(Enterprise)
    rows = [*good_enterprises(), [BAD_CHECK, "坏", "", "460203", "", "", "", ""]]
    content = csv_bytes(ENTERPRISE_HEADER, rows)
    result = _import(runner, tmp_path, "enterprises", content, "--all-or-nothing")
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert _count(Enterprise) == before
    without = _import(runner, tmp_path, "enterprises", content)
    assert _last_line(without) == "imported 2, updated 0, unchanged 0, rejected 1"
    assert _count(Enterprise) == before + 2


def test_chinese_headers_xlsx_and_numeric_cells(runner, seeded, tmp_path):
    header = ["统一社会信用代码", "名称", "英文名称", "行政区划代码", "联系电话", "法定代表人"]
    rows = [[SEAFOOD, "三亚测试海鲜店", "Test Seafood", 460203, 13800138000, "张三"]]
    result = _import(runner, tmp_path, "enterprises", xlsx_bytes(header, rows), name="export.xlsx")
    assert result.exit_code == 0, result.output
    assert _last_line(result) == "imported 1, updated 0, unchanged 0, rejected 0"
    seafood = db.session.scalar(select(Enterprise).where(Enterprise.uscc == SEAFOOD))
    assert (seafood.division_code, seafood.contact_phone) == ("460203", "+8613800138000")


def test_gb18030_csv_from_a_chinese_excel_is_read(runner, seeded, tmp_path):
    header = ["统一社会信用代码", "名称", "行政区划代码"]
    content = csv_bytes(header, [[HOTEL, "海口测试酒店", "460100"]], encoding="gb18030")
    result = _import(runner, tmp_path, "enterprises", content)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Enterprise.name_zh).where(Enterprise.uscc == HOTEL)) == (
        "海口测试酒店"
    )


def test_a_file_without_a_required_column_is_refused_whole(runner, seeded, tmp_path):
    content = csv_bytes(["uscc", "name_zh"], [[HOTEL, "海口测试酒店"]])
    result = _import(runner, tmp_path, "enterprises", content)
    assert result.exit_code == 2
    assert "missing: division_code" in result.output
    empty = _import(runner, tmp_path, "enterprises", b"")
    assert empty.exit_code == 2
    assert "empty" in empty.output


def _outlet_rows():
    return [
        [
            SEAFOOD,
            "测试海鲜店一号",
            "Seafood 1",
            "餐饮",
            "460203",
            "榆亚路1号",
            "18.2528",
            "109.512",
        ],
        [SEAFOOD, "测试海鲜店二号", "", "catering", "460203", "", "", ""],
        [HOTEL, "海口测试酒店前台", "", "lodging", "460106", "", "", ""],
    ]


def test_outlets_import_gets_codes_and_is_idempotent(runner, seeded, tmp_path):
    _import(runner, tmp_path, "enterprises", csv_bytes(ENTERPRISE_HEADER, good_enterprises()))
    content = csv_bytes(OUTLET_HEADER, _outlet_rows())
    first = _import(runner, tmp_path, "outlets", content)
    assert first.exit_code == 0, first.output
    assert _last_line(first) == "imported 3, updated 0, unchanged 0, rejected 0"
    again = _import(runner, tmp_path, "outlets", content)
    assert _last_line(again) == "imported 0, updated 0, unchanged 3, rejected 0"
    one = db.session.scalar(select(Outlet).where(Outlet.name_zh == "测试海鲜店一号"))
    assert len(one.code) == 8
    assert (one.latitude, one.longitude, one.category.value) == (18.2528, 109.512, "catering")
    rows = _outlet_rows()
    rows[1][5] = "新地址"
    changed = _import(runner, tmp_path, "outlets", csv_bytes(OUTLET_HEADER, rows))
    assert _last_line(changed) == "imported 0, updated 1, unchanged 2, rejected 0"
    change = db.session.scalar(select(AdminChange).where(AdminChange.action == "update"))
    assert change.subject_type == "outlet"
    assert change.after == {"address": "新地址"}


OUTLET_REJECTS = [
    ([SEAFOOD[:-1] + "Z", "店", "", "餐饮", "460203", "", "", ""], "uscc", "No enterprise"),
    ([SEAFOOD, "店", "", "spa", "460203", "", "", ""], "category", "not a category"),
    ([SEAFOOD, "店", "", "餐饮", "469999", "", "", ""], "division_code", "Hainan"),
    ([SEAFOOD, "店", "", "餐饮", "460000", "", "", ""], "division_code", "whole province"),
    ([SEAFOOD, "店", "", "餐饮", "460203", "", "95", "109.5"], "lat", "outside Hainan"),
    ([SEAFOOD, "店", "", "餐饮", "460203", "", "18.2", "east"], "long", "not a number"),
    ([SEAFOOD, "店", "", "餐饮", "460203", "", "18.2", ""], "long", "both"),
    ([SEAFOOD, "店", "", "餐饮", "460203", "址" * 256, "", ""], "address", "Too long"),
    ([SEAFOOD, "测试海鲜店一号", "", "餐饮", "460203", "", "", ""], "uscc", "appears again"),
]


@pytest.mark.parametrize(("row", "column", "words"), OUTLET_REJECTS)
def test_each_outlet_reject_reason(runner, seeded, tmp_path, row, column, words):
    _import(runner, tmp_path, "enterprises", csv_bytes(ENTERPRISE_HEADER, good_enterprises()))
    rows = [_outlet_rows()[0], row]
    result = _import(runner, tmp_path, "outlets", csv_bytes(OUTLET_HEADER, rows))
    assert result.exit_code == 1
    assert _last_line(result) == "imported 1, updated 0, unchanged 0, rejected 1"
    assert f"line 3, column {column}: " in result.output
    assert words in result.output


def test_imported_rows_reach_the_lookup_cache(runner, seeded, tmp_path):
    from complaints import lookups

    next_id = db.session.scalar(select(func.max(Enterprise.id))) + 1
    assert lookups.get(Enterprise, next_id) is None  # remembered as missing
    db.session.commit()
    _import(runner, tmp_path, "enterprises", csv_bytes(ENTERPRISE_HEADER, good_enterprises()))
    db.session.expire_all()
    found = lookups.get(Enterprise, next_id)
    assert found is not None
    assert found.uscc in (SEAFOOD, HOTEL)
