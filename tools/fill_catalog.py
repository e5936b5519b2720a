"""Fill empty entries of a catalog from a reviewed translation table (dev-time only).

    .venv/bin/python tools/fill_catalog.py zh tools/translations/zh.tsv

The table has one entry per line: the English msgid, a TAB, the translation (plural entries
give the forms separated by " || "). Only empty or fuzzy entries are filled: reviewed
translations already in the catalog are never overwritten. Prints what is still empty.
"""

import io
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGS = Path(__file__).resolve().parent.parent / "complaints" / "translations"


def catalog_path(locale: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / "messages.po"


def load_table(path: Path) -> dict[str, str]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        msgid, _, text = line.partition("\t")
        table[msgid.replace("\\n", "\n")] = text.replace("\\n", "\n")
    return table


def is_empty(message) -> bool:
    if isinstance(message.string, tuple | list):
        return message.fuzzy or not all(message.string)
    return message.fuzzy or not message.string


def fill(locale: str, table: dict[str, str]) -> list[str]:
    path = catalog_path(locale)
    catalog = read_po(io.BytesIO(path.read_bytes()), locale=locale)
    for message in catalog:
        if not message.id or not is_empty(message):
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key not in table:
            continue
        if isinstance(message.id, tuple):
            forms = table[key].split(" || ")
            message.string = tuple(forms[: catalog.num_plurals] or forms)
        else:
            message.string = table[key]
        message.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog, width=76)
    path.write_bytes(out.getvalue())
    return [
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id and is_empty(message)
    ]


if __name__ == "__main__":
    missing = fill(sys.argv[1], load_table(Path(sys.argv[2])))
    for msgid in missing:
        print("untranslated:", msgid.replace("\n", "\\n"))
    print(f"{sys.argv[1]}: {len(missing)} untranslated")
