"""Rule-based romanisation of Ukrainian and Russian Cyrillic names, in several conventions.

Why: the same Cyrillic surname reaches different agencies through different documents and
clerks -- a Ukrainian passport (national system: Shevchenko), a Polish residence card
(Szewczenko), a German file (Schewtschenko), a French one (Chevtchenko), a scholarly or
Czech-style one (Ševčenko). Deriving these by rule keeps the long tail of surnames consistent
without hand-typing four spellings for each.
"""

from __future__ import annotations

_VOWELS = set("аеєиіїоуюяёыэ")
_SIGNS = set("ьъ'ʼ’")


def _context_map(
    word: str, table: dict[str, str], initial: dict[str, str], after_vowel: dict[str, str]
) -> str:
    """Transliterate one lower-case word: ``initial`` forms at the start of a word,
    ``after_vowel`` forms after a vowel or a soft/hard sign, ``table`` forms elsewhere."""
    out: list[str] = []
    prev = ""
    for ch in word:
        if not prev or prev in " -":
            rep = initial.get(ch, table.get(ch, ch))
        elif prev in _VOWELS or prev in _SIGNS:
            rep = after_vowel.get(ch, table.get(ch, ch))
        else:
            rep = table.get(ch, ch)
        out.append(rep)
        prev = ch
    return "".join(out)


def _title(text: str) -> str:
    parts = []
    for word in text.split(" "):
        parts.append("-".join(p[:1].upper() + p[1:] for p in word.split("-")))
    return " ".join(parts)


def _table(spec: str) -> dict[str, str]:
    """``а=a б=b ...`` -> mapping; ``х=`` maps to the empty string."""
    out: dict[str, str] = {}
    for item in spec.split():
        k, v = item.split("=", 1)
        out[k] = v
    return out


_COMMON = "а=a б=b д=d з=z к=k л=l м=m н=n о=o п=p р=r с=s т=t у=u ф=f ь= ъ= '= ’= ʼ="

# Ukrainian national system (Cabinet of Ministers resolution 55, 2010): passports since 2010.
_UK_NATIONAL = _table(
    _COMMON + " в=v г=h ґ=g е=e є=ie ж=zh и=y і=i ї=i й=i х=kh ц=ts ч=ch ш=sh щ=shch ю=iu я=ia"
)
_UK_NATIONAL_INITIAL = _table("є=ye ї=yi й=y ю=yu я=ya")
# Polish-style, as on Polish documents of Ukrainian workers.
_UK_POLISH = _table(
    _COMMON + " в=w г=h ґ=g е=e є=je ж=ż и=y і=i ї=ji й=j х=ch ц=c ч=cz ш=sz щ=szcz ю=ju я=ja"
)
_UK_POLISH_AFTER = _table("ю=ju я=ja є=je")
# German (Duden-style).
_UK_GERMAN = _table(
    _COMMON
    + " в=w г=h ґ=g е=e є=je ж=sh з=s и=y і=i ї=ji й=j х=ch ц=z ч=tsch ш=sch щ=schtsch"
    + " ю=ju я=ja"
)
# Scholarly / Czech-style (close to ISO 9).
_UK_SCHOLARLY = _table(
    _COMMON + " в=v г=h ґ=g е=e є=je ж=ž и=y і=i ї=ji й=j х=ch ц=c ч=č ш=š щ=šč ю=ju я=ja"
)

# Russian: BGN/PCGN-like (the common English-language spelling).
_RU_BGN = _table(
    _COMMON + " в=v г=g е=e ё=yo ж=zh и=i й=y х=kh ц=ts ч=ch ш=sh щ=shch ы=y э=e ю=yu я=ya"
)
_RU_BGN_CONTEXT = _table("е=ye ё=yo")
# Russian passports (ICAO Doc 9303 table, since 2013).
_RU_ICAO = _table(
    _COMMON + " в=v г=g е=e ё=e ж=zh и=i й=i х=kh ц=ts ч=ch ш=sh щ=shch ы=y э=e ю=iu я=ia ъ=ie"
)
# German (Duden-style).
_RU_GERMAN = _table(
    _COMMON
    + " в=w г=g е=e ё=jo ж=sch з=s и=i й=i х=ch ц=z ч=tsch ш=sch щ=schtsch ы=y э=e ю=ju"
    + " я=ja"
)
_RU_GERMAN_CONTEXT = _table("е=je")
# French.
_RU_FRENCH = _table(
    _COMMON + " в=v г=g е=e ё=io ж=j и=i й=ï х=kh ц=ts ч=tch ш=ch щ=chtch ы=y э=e ю=iou я=ia у=ou"
)


def _endings(text: str, rules: tuple[tuple[str, str], ...]) -> str:
    for old, new in rules:
        if text.endswith(old):
            return text[: -len(old)] + new
    return text


def _dedupe(items: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return tuple(out)


def ukrainian_romanisations(native: str) -> tuple[str, ...]:
    """National (passport), Polish-style, German-style and scholarly spellings."""
    low = native.lower()
    # The national system writes зг as "zgh" to tell it apart from ж (zh).
    national = _context_map(low.replace("зг", "зґг"), _UK_NATIONAL, _UK_NATIONAL_INITIAL, {})
    polish = _context_map(low, _UK_POLISH, _UK_POLISH, _UK_POLISH_AFTER)
    polish = _endings(polish, (("skyj", "ski"), ("ckyj", "cki"), ("yj", "y")))
    german = _context_map(low, _UK_GERMAN, _UK_GERMAN, _UK_GERMAN)
    scholarly = _context_map(low, _UK_SCHOLARLY, _UK_SCHOLARLY, _UK_SCHOLARLY)
    return _dedupe([_title(national), _title(polish), _title(german), _title(scholarly)])


def russian_romanisations(native: str) -> tuple[str, ...]:
    """BGN-like English, passport (ICAO), German-style and French-style spellings."""
    low = native.lower()
    bgn = _context_map(low.replace("ьи", "ьyi"), _RU_BGN, _RU_BGN_CONTEXT, _RU_BGN_CONTEXT)
    bgn = _endings(bgn, (("iy", "y"), ("yy", "y")))
    icao = _context_map(low, _RU_ICAO, _RU_ICAO, _RU_ICAO)
    german = _context_map(
        low.replace("ьи", "ьji"), _RU_GERMAN, _RU_GERMAN_CONTEXT, _RU_GERMAN_CONTEXT
    )
    german = _endings(german, (("ii", "i"),))
    french = _context_map(low, _RU_FRENCH, _RU_FRENCH, _RU_FRENCH)
    french = _endings(french, (("iï", "i"), ("ïï", "i")))
    return _dedupe([_title(bgn), _title(icao), _title(german), _title(french)])
