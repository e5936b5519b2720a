"""Hainan's administrative divisions (GB/T 2260), as listed in docs/rules.md."""

PROVINCE = ("460000", "海南省", "Hainan Province", None)

PREFECTURE_CITIES = [
    ("460100", "海口市", "Haikou"),
    ("460200", "三亚市", "Sanya"),
    ("460300", "三沙市", "Sansha"),
    ("460400", "儋州市", "Danzhou"),
]

DISTRICTS = [
    ("460105", "秀英区", "Xiuying District", "460100"),
    ("460106", "龙华区", "Longhua District", "460100"),
    ("460107", "琼山区", "Qiongshan District", "460100"),
    ("460108", "美兰区", "Meilan District", "460100"),
    ("460202", "海棠区", "Haitang District", "460200"),
    ("460203", "吉阳区", "Jiyang District", "460200"),
    ("460204", "天涯区", "Tianya District", "460200"),
    ("460205", "崖州区", "Yazhou District", "460200"),
    ("460302", "西沙区", "Xisha District", "460300"),
    ("460303", "南沙区", "Nansha District", "460300"),
]

# Province-administered county-level cities and counties.
COUNTIES = [
    ("469001", "五指山市", "Wuzhishan"),
    ("469002", "琼海市", "Qionghai"),
    ("469005", "文昌市", "Wenchang"),
    ("469006", "万宁市", "Wanning"),
    ("469007", "东方市", "Dongfang"),
    ("469021", "定安县", "Ding'an County"),
    ("469022", "屯昌县", "Tunchang County"),
    ("469023", "澄迈县", "Chengmai County"),
    ("469024", "临高县", "Lingao County"),
    ("469025", "白沙黎族自治县", "Baisha Li Autonomous County"),
    ("469026", "昌江黎族自治县", "Changjiang Li Autonomous County"),
    ("469027", "乐东黎族自治县", "Ledong Li Autonomous County"),
    ("469028", "陵水黎族自治县", "Lingshui Li Autonomous County"),
    ("469029", "保亭黎族苗族自治县", "Baoting Li and Miao Autonomous County"),
    ("469030", "琼中黎族苗族自治县", "Qiongzhong Li and Miao Autonomous County"),
]


def all_divisions():
    """(code, name_zh, name_en, parent_code), parents before children."""
    yield PROVINCE
    for code, zh, en in PREFECTURE_CITIES:
        yield code, zh, en, PROVINCE[0]
    for code, zh, en, parent in DISTRICTS:
        yield code, zh, en, parent
    for code, zh, en in COUNTIES:
        yield code, zh, en, PROVINCE[0]


def agency_divisions():
    """One market-regulation bureau per city and per province-administered county."""
    for code, zh, en in PREFECTURE_CITIES + COUNTIES:
        yield code, f"{zh}市场监督管理局", f"{en} Market Supervision Administration"
