#!/usr/bin/env bash
# The translation workflow (Babel, pinned in requirements.txt):
#
#   scripts/update_translations.sh          extract the messages and merge them into both catalogues
#   scripts/update_translations.sh check    only report untranslated or fuzzy entries (what tests/test_i18n.py fails on)
#
# Then translate the new entries in seqgen/locale/zh_Hans/LC_MESSAGES/seqgen.po (and copy the English
# msgid into msgstr in en/), remove their "fuzzy" flags, and run `python -m pytest -q tests/test_i18n.py`.
# There is no compile step: seqgen.locale compiles the .po files in memory when a language is first used.
set -euo pipefail
cd "$(dirname "$0")/.."
pot=$(mktemp --suffix=.pot)
trap 'rm -f "$pot"' EXIT
pybabel -q extract -F babel.cfg -k ngettext:1,2 -k N_ -k Sentence -k Plural:1,2 --no-location --sort-output \
    --project=seqgen --copyright-holder="seqgen authors" -o "$pot" .
if [[ "${1:-}" == check ]]; then
    python - "$pot" <<'PY'
import sys
from babel.messages.pofile import read_po
pot = read_po(open(sys.argv[1], "rb"))
bad = 0
for lang in ("en", "zh_Hans"):
    cat = read_po(open(f"seqgen/locale/{lang}/LC_MESSAGES/seqgen.po", "rb"))
    for m in pot:
        if not m.id:
            continue
        t = cat.get(m.id)
        if t is None or t.fuzzy or not (all(t.string) if isinstance(t.string, tuple) else t.string):
            bad += 1
            print(f"{lang}: {'missing' if t is None else 'fuzzy' if t.fuzzy else 'untranslated'}: {m.id!r}")
print(f"{bad} untranslated or missing of {sum(1 for m in pot if m.id)} messages (en, zh_Hans)")
sys.exit(1 if bad else 0)
PY
    exit
fi
for lang in en zh_Hans; do
    po=seqgen/locale/$lang/LC_MESSAGES/seqgen.po
    if [[ -f $po ]]; then
        pybabel -q update -i "$pot" -D seqgen -d seqgen/locale -l "$lang" --no-wrap --ignore-obsolete
    else
        pybabel -q init -i "$pot" -D seqgen -d seqgen/locale -l "$lang" --no-wrap
    fi
done
