"""Reference data (Hainan divisions, one bureau per city/county) and a demo set of merchants.

Idempotent: rows are found by their natural keys and only missing ones are added.
"""

import hashlib

from flask import current_app
from sqlalchemy import select

from complaints.accounts.seed import seed_demo_accounts
from complaints.agencies.models import Agency
from complaints.categories import Category
from complaints.compensation.seed import seed_funds
from complaints.extensions import db
from complaints.geo import hainan
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet
from complaints.merchants.tokens import OUTLET_CODE_ALPHABET
from complaints.merchants.uscc import make_uscc
from complaints.portal.seed import seed_demo_merchant_accounts

# (org code base, individual business?, division, name_zh, name_en, answers first, outlets)
# outlets: (name_zh, name_en, category, division, address)
DEMO_MERCHANTS = [
    (
        "MA5T8K2J",
        False,
        "460204",
        "三亚湾椰风海景酒店有限公司",
        "Sanya Bay Coconut Breeze Hotel Co., Ltd.",
        True,
        [
            (
                "椰风海景酒店前台",
                "Coconut Breeze Hotel front desk",
                Category.LODGING,
                "460204",
                "三亚市天涯区三亚湾路88号",
            )
        ],
    ),
    (
        "L3Q8P1XW",
        True,
        "460204",
        "三亚第一市场阿海海鲜加工店",
        "Ah Hai Seafood Kitchen, Sanya First Market",
        True,
        [
            (
                "阿海海鲜加工店",
                "Ah Hai Seafood Kitchen",
                Category.CATERING,
                "460204",
                "三亚市天涯区新建街第一市场B区12号",
            )
        ],
    ),
    (
        "MA7H2D9N",
        False,
        "460203",
        "三亚亚龙湾珠宝商贸有限公司",
        "Yalong Bay Jewellery Trading Co., Ltd.",
        True,
        [
            (
                "亚龙湾珠宝旗舰店",
                "Yalong Bay Jewellery flagship store",
                Category.SHOPPING,
                "460203",
                "三亚市吉阳区亚龙湾路3号",
            ),
            (
                "凤凰机场珠宝专柜",
                "Phoenix Airport jewellery counter",
                Category.SHOPPING,
                "460204",
                "三亚凤凰国际机场T1",
            ),
        ],
    ),
    (
        "MA6C4R7B",
        False,
        "460204",
        "三亚天涯海角景区管理有限公司",
        "Tianya Haijiao Scenic Area Management Co., Ltd.",
        True,
        [
            (
                "天涯海角景区售票处",
                "Tianya Haijiao ticket office",
                Category.ATTRACTIONS,
                "460204",
                "三亚市天涯区天涯海角景区",
            )
        ],
    ),
    (
        "MA5N1W3E",
        False,
        "460203",
        "三亚鹿城出租汽车有限公司",
        "Sanya Lucheng Taxi Co., Ltd.",
        False,
        [
            ("出租车 琼B·T1234", "Taxi Qiong B·T1234", Category.TRANSPORT, "460203", ""),
            ("出租车 琼B·T5678", "Taxi Qiong B·T5678", Category.TRANSPORT, "460203", ""),
        ],
    ),
    (
        "MA8K5T2Y",
        False,
        "460203",
        "三亚椰梦旅行社有限公司",
        "Sanya Coconut Dream Travel Agency Co., Ltd.",
        True,
        [
            (
                "椰梦旅行社大东海门店",
                "Coconut Dream tour desk, Dadonghai",
                Category.TRAVEL_AGENCY,
                "460203",
                "三亚市吉阳区大东海榆亚路6号",
            )
        ],
    ),
    (
        "MA9D3F6H",
        False,
        "460202",
        "三亚蜈支洲岛潜水娱乐有限公司",
        "Wuzhizhou Island Diving & Leisure Co., Ltd.",
        True,
        [
            (
                "蜈支洲岛潜水中心",
                "Wuzhizhou Island dive centre",
                Category.ENTERTAINMENT,
                "460202",
                "三亚市海棠区蜈支洲岛码头",
            )
        ],
    ),
    (
        "P7R2K8M4",
        True,
        "460106",
        "海口骑楼老街椰子鸡美食坊",
        "Qilou Old Street Coconut Chicken, Haikou",
        True,
        [
            (
                "骑楼老街椰子鸡",
                "Qilou coconut chicken",
                Category.CATERING,
                "460106",
                "海口市龙华区中山路骑楼老街21号",
            )
        ],
    ),
    (
        "MA4B7N2C",
        False,
        "460108",
        "海口美兰旅游商品有限公司",
        "Haikou Meilan Tourist Goods Co., Ltd.",
        True,
        [
            (
                "美兰机场特产店",
                "Meilan Airport local specialities",
                Category.SHOPPING,
                "460108",
                "海口美兰国际机场T2",
            )
        ],
    ),
    (
        "MA3E9G5K",
        False,
        "469006",
        "万宁日月湾冲浪俱乐部有限公司",
        "Wanning Riyue Bay Surf Club Co., Ltd.",
        True,
        [
            (
                "日月湾冲浪俱乐部",
                "Riyue Bay surf club",
                Category.ENTERTAINMENT,
                "469006",
                "万宁市礼纪镇日月湾",
            )
        ],
    ),
    (
        "MA2F8H4P",
        False,
        "469028",
        "陵水分界洲岛旅游区有限公司",
        "Lingshui Fenjiezhou Island Tourism Co., Ltd.",
        True,
        [
            (
                "分界洲岛售票处",
                "Fenjiezhou Island ticket office",
                Category.ATTRACTIONS,
                "469028",
                "陵水黎族自治县分界洲岛码头",
            )
        ],
    ),
    (
        "Q4T7W2X9",
        True,
        "469002",
        "琼海博鳌海边民宿",
        "Boao Seaside Homestay, Qionghai",
        True,
        [
            (
                "博鳌海边民宿",
                "Boao seaside homestay",
                Category.LODGING,
                "469002",
                "琼海市博鳌镇滨海路9号",
            )
        ],
    ),
]


def _demo_outlet_code(seed_text: str) -> str:
    """Stable demo outlet codes, so printed demo posters survive a re-seed."""
    digest = hashlib.sha256(seed_text.encode()).digest()
    return "".join(OUTLET_CODE_ALPHABET[b % len(OUTLET_CODE_ALPHABET)] for b in digest[:8])


def _demo_mobile(uscc: str) -> str:
    digits = str(int(hashlib.sha256(uscc.encode()).hexdigest(), 16))[:8]
    return f"+86138{digits}"


def seed_reference_data() -> None:
    existing = set(db.session.scalars(select(Division.code)))
    for code, zh, en, parent in hainan.all_divisions():
        if code not in existing:
            db.session.add(Division(code=code, name_zh=zh, name_en=en, parent_code=parent))
            db.session.flush()
    known_agencies = set(db.session.scalars(select(Agency.slug)))
    for code, zh, en in hainan.agency_divisions():
        slug = f"amr-{code}"
        if slug not in known_agencies:
            db.session.add(
                Agency(
                    slug=slug,
                    name_zh=zh,
                    name_en=en,
                    division_code=code,
                    notify_email=f"duty-{code}@amr.hainan.example",
                )
            )
    db.session.flush()


def seed_demo_merchants() -> list[Enterprise]:
    enterprises = []
    for org_base, individual, division, zh, en, answers_first, outlets in DEMO_MERCHANTS:
        uscc = make_uscc(org_base, category="2" if individual else "1", division=division)
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        if enterprise is None:
            enterprise = Enterprise(
                uscc=uscc,
                name_zh=zh,
                name_en=en,
                division_code=division,
                answers_first=answers_first,
                contact_phone=_demo_mobile(uscc),
                contact_email=f"service-{uscc[-6:].lower()}@merchant.example",
            )
            db.session.add(enterprise)
            db.session.flush()
        for outlet_zh, outlet_en, category, outlet_division, address in outlets:
            code = _demo_outlet_code(uscc + outlet_zh)
            if db.session.scalar(select(Outlet.id).where(Outlet.code == code)) is None:
                db.session.add(
                    Outlet(
                        code=code,
                        enterprise_id=enterprise.id,
                        name_zh=outlet_zh,
                        name_en=outlet_en,
                        category=category,
                        division_code=outlet_division,
                        address=address,
                    )
                )
        enterprises.append(enterprise)
    db.session.flush()
    return enterprises


def seed_all() -> None:
    """Reference data always; invented merchants, accounts, money and cases only for the demo."""
    seed_reference_data()
    if current_app.config["ANXIN_ENV"] == "production":
        seed_funds(demo=False)
        return
    seed_demo_merchants()
    seed_demo_accounts()
    seed_demo_merchant_accounts()
    seed_funds()
