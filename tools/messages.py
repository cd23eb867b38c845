"""The translation catalogs: extract what pages and services say, update every language's .po.

    python -m tools.messages           # write services/locale/chatapp.pot and update the .po files
    python -m tools.messages --check   # exit 1 when a catalog misses or lacks a translation

Extraction is Babel's (`pybabel extract` with our keywords), plus the default sentences of the
service errors (their docstrings, services/errors.py), which no `_()` call holds. Updating is
Babel's too (`pybabel update`): new messages come in untranslated, gone ones are dropped.
`make test` runs the check (tests/test_i18n.py), so a new sentence without its translation
fails the build instead of showing English in the middle of a Chinese page.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from services import errors
from services.i18n import DEFAULT, DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("chatapp", "pages", "services")
# The names sentences are marked with: gettext's own, and services.i18n.msg / Msg.
KEYWORDS = {"_": None, "N_": None, "msg": None, "Msg": None, "ngettext": (1, 2)}
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"


def extract() -> Catalog:
    """Every sentence to translate, with where it is used."""
    template = Catalog(project="chatapp", domain=DOMAIN, fuzzy=False)
    for source in SOURCES:
        found = extract_from_dir(ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS)
        for filename, lineno, message, comments, context in found:
            template.add(
                message,
                locations=[(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    for _name, error in inspect.getmembers(errors, inspect.isclass):
        if issubclass(error, errors.ChatAppError) and error is not errors.ChatAppError:
            where = f"services/errors.py:{error.__name__}"
            template.add(error.default_message(), auto_comments=[where])
    return template


def catalog_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(code: str) -> Catalog:
    path = catalog_path(code)
    if not path.is_file():
        return Catalog(locale=code, domain=DOMAIN, project="chatapp")
    with path.open("rb") as source:
        return read_po(source, locale=code, domain=DOMAIN)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, catalog, width=100, omit_header=False, sort_output=True)


def update() -> None:
    template = extract()
    write(template, TEMPLATE)
    for code in LANGUAGES:
        if code == DEFAULT:
            continue
        catalog = read(code)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        write(catalog, catalog_path(code))


def problems(code: str, template: Catalog | None = None) -> list[str]:
    """What language `code` lacks: sentences missing, untranslated or marked fuzzy, and
    translations whose {placeholders} differ from the English."""
    template = template or extract()
    catalog = read(code)
    found: list[str] = []
    for message in template:
        if not message.id:
            continue
        mine = catalog.get(message.id, context=message.context)
        key = message.id if isinstance(message.id, str) else message.id[0]
        if mine is None:
            found.append(f"missing: {key!r}")
        elif not mine.string or (isinstance(mine.string, tuple) and not all(mine.string)):
            found.append(f"untranslated: {key!r}")
        elif mine.fuzzy:
            found.append(f"fuzzy: {key!r}")
        else:
            english = message.id if isinstance(message.id, tuple) else (message.id,)
            theirs = mine.string if isinstance(mine.string, tuple) else (mine.string,)
            if _fields(english[-1]) != {f for t in theirs for f in _fields(t)}:
                found.append(f"placeholders differ: {key!r}")
    return found


def _fields(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="report what is missing; change nothing"
    )
    args = parser.parse_args(argv)
    if not args.check:
        update()
    template = extract()
    failed = False
    for code in LANGUAGES:
        if code == DEFAULT:
            continue
        found = problems(code, template)
        print(f"{code}: {len(template) - len(found)} of {len(template)} translated")
        for line in found[:20]:
            print("   ", line)
        failed = failed or bool(found)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
