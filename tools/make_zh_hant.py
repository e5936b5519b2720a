"""Generate the Traditional Chinese catalog (zh_Hant) from the Simplified one (dev-time only).

    .venv/bin/python tools/make_zh_hant.py      # or: make messages

Every zh msgstr is converted character by character with OpenCC's "s2t" profile (standard
Traditional characters, no Taiwan- or Hong Kong-only wording, since visitors come from both),
then the reviewed corrections in tools/translations/zh_Hant.tsv (English msgid, TAB, wording)
replace what a character conversion gets wrong. OpenCC (the opencc-purepy package) is needed
only here, never at run time. Placeholders, 【安心】 and ASCII pass through unchanged.
"""

import io
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fill_catalog import catalog_path, load_table

OVERRIDES = Path(__file__).resolve().parent / "translations" / "zh_Hant.tsv"


def main() -> int:
    try:
        from opencc_purepy import OpenCC
    except ImportError:
        print("Install the converter first: .venv/bin/pip install opencc-purepy==1.5.0")
        return 1
    convert = OpenCC("s2t").convert
    zh = read_po(io.BytesIO(catalog_path("zh").read_bytes()), locale="zh")
    target_path = catalog_path("zh_Hant")
    target = read_po(io.BytesIO(target_path.read_bytes()), locale="zh_Hant")
    overrides = load_table(OVERRIDES) if OVERRIDES.exists() else {}
    missing = 0
    for message in target:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        source = zh.get(message.id)
        if key in overrides:
            text = overrides[key]
        elif source is not None and source.string and not source.fuzzy:
            text = source.string if isinstance(source.string, str) else source.string[0]
            text = convert(text)
        else:
            missing += 1
            continue
        message.string = text if isinstance(message.id, str) else (text,)
        message.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, target, width=76)
    target_path.write_bytes(out.getvalue())
    print(f"zh_Hant: converted from zh, {missing} without a Chinese source")
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
