"""Normalisation of raw field values before feature extraction.

Names arrive in any script and spelling. Everything is brought to one lowercase Latin form so
that an Arabic-script record and its romanised twin share tokens: Unicode NFKC, script-specific
folding (Arabic letter variants and the article, Cyrillic yo), transliteration with anyascii
(CJK one syllable per character), diacritics dropped, punctuation and name particles removed.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

#: Arabic letter variants that agencies write interchangeably.
_ARABIC_FOLDING = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ا",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel
    }
)
_ARABIC_HARAKAT = re.compile("[\u064b-\u065f\u0670]")
#: The Arabic article written attached to the following word: ال...
_ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])ال(?=[\u0600-\u06ff]{2,})")
_CYRILLIC_FOLDING = str.maketrans({"ё": "е", "Ё": "Е"})
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['`\u2018\u2019\u02bc\u02bb]")

#: Particles that come and go between agencies' spellings of the same name.
NAME_PARTICLES = frozenset(
    {
        "al", "el", "ul", "bin", "ibn", "bint", "ben", "de", "da", "del", "della", "der",
        "di", "do", "dos", "das", "du", "la", "le", "van", "von", "y",
    }
)  # fmt: skip


def _transliterate(text: str) -> str:
    """Latin form of ``text``; CJK characters become separate syllables (王伟 -> wang wei)."""
    if _CJK.search(text):
        text = _CJK.sub(lambda m: f" {anyascii(m.group(0))} ", text)
    return anyascii(text)


def normalise_name(value: str) -> tuple[str, ...]:
    """The name's parts as lowercase ASCII words, particles removed; empty for a blank value."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return ()
    text = _ARABIC_HARAKAT.sub("", text.translate(_ARABIC_FOLDING))
    text = _ARABIC_ARTICLE.sub("", text)
    text = text.translate(_CYRILLIC_FOLDING)
    text = _transliterate(text).lower()
    text = _APOSTROPHES.sub("", text)
    words = _NON_ALNUM.sub(" ", text).split()
    kept = tuple(w for w in words if w not in NAME_PARTICLES)
    return kept or tuple(words)


def normalise_code(value: str) -> str:
    """Categorical codes (sex, nationality): NFKC, trimmed, upper case; empty when blank."""
    return unicodedata.normalize("NFKC", value).strip().upper()


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(value: str) -> tuple[int, int | None, int | None] | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as (year, month, day); None when blank or invalid.

    Invalid values (impossible months, other formats) are treated as missing rather than as a
    value, and counted by the caller so the data officer hears about them.
    """
    match = _DATE.match(value.strip())
    if match is None:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= 31:
        return None
    return year, month, day
