"""Normalisation of raw field values before feature extraction.

Names arrive in any script and spelling. Everything is brought to one lowercase Latin form so
that an Arabic-script record and its romanised twin share tokens: Unicode NFKC, script-specific
folding (Arabic letter variants and the article, Cyrillic yo), transliteration with anyascii
(CJK one syllable per character), diacritics dropped, punctuation and name particles removed.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

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
#: Thai: a consonant (with an optional vowel sign) cancelled by the thanthakhat mark is silent.
_THAI_SILENT = re.compile("[\u0e01-\u0e2e][\u0e31\u0e34-\u0e39]?\u0e4c")
_THAI_CONSONANT = "\u0e01-\u0e2e"
_THAI_MARKS = "\u0e31\u0e32\u0e34-\u0e3a\u0e47-\u0e4b"
#: A consonant closing a syllable: after a vowel sign or tone mark, or second of a word's
#: first two consonants (inherent vowel), and before another consonant or the word's end.
_THAI_FINAL = re.compile(
    f"(?:(?<=[{_THAI_MARKS}])|(?<=(?<![{_THAI_CONSONANT}{_THAI_MARKS}\u0e40-\u0e44])[{_THAI_CONSONANT}]))"
    f"([{_THAI_CONSONANT}])(?=[{_THAI_CONSONANT}\u0e40-\u0e44]|[^\u0e00-\u0e7f]|$)"
)
#: Vowels written before the consonant they follow in speech (เ แ โ ใ ไ).
_THAI_LEADING_VOWEL = re.compile(f"([\u0e40-\u0e44])([{_THAI_CONSONANT}])")
#: Thai consonants closing a syllable sound as one of n, t, p, k: written so, as romanisers do.
_THAI_FINAL_SOUND = {
    **dict.fromkeys("ญณรลฬ", "น"),
    **dict.fromkeys("ดตถทธฎฏฐฑฒศษสจชซ", "ต"),
    **dict.fromkeys("บปพฟภ", "ป"),
    **dict.fromkeys("กขคฆ", "ก"),
}
_THAI = re.compile("[\u0e00-\u0e7f]")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NON_ALNUM_UPPER = re.compile(r"[^A-Z0-9]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_NUMBER_SPACING = re.compile(r"[\s_]+")
_APOSTROPHES = re.compile(r"['`\u2018\u2019\u02bc\u02bb]")

#: Particles that come and go between agencies' spellings of the same name.
NAME_PARTICLES = frozenset(
    {
        "al", "el", "ul", "bin", "ibn", "bint", "ben", "de", "da", "del", "della", "der",
        "di", "do", "dos", "das", "du", "la", "le", "van", "von", "y",
    }
)  # fmt: skip


def _thai_final(match: re.Match[str]) -> str:
    return _THAI_FINAL_SOUND.get(match.group(1), match.group(1))


def _transliterate(text: str) -> str:
    """Latin form of ``text``; CJK characters become separate syllables (王伟 -> wang wei)."""
    if _CJK.search(text):
        text = _CJK.sub(lambda m: f" {anyascii(m.group(0))} ", text)
    return anyascii(text)


def _latin_words(value: str) -> list[str]:
    """Any script to lowercase ASCII words (script folding, transliteration, no punctuation)."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return []
    text = _ARABIC_HARAKAT.sub("", text.translate(_ARABIC_FOLDING))
    text = _ARABIC_ARTICLE.sub("", text)
    text = text.translate(_CYRILLIC_FOLDING)
    if _THAI.search(text):
        text = _THAI_FINAL.sub(_thai_final, _THAI_SILENT.sub("", text))
        text = _THAI_LEADING_VOWEL.sub(r"\2\1", text)
    text = _transliterate(text).lower()
    text = _APOSTROPHES.sub("", text)
    return _NON_ALNUM.sub(" ", text).split()


#: Romanised Arabic compounds written as one word: Abdulaziz = Abd al-Aziz (عبد العزيز).
_ABD_PREFIX = re.compile(r"^ab(?:d(?:ou|u|e|a)l|dul)(?=[a-z]{3})")
#: The Arabic article joined to a name by romanisers (Alshami, Elbakry), as Arabic script
#: writes it; the article is dropped there too.
_JOINED_ARTICLE = re.compile(r"^(?:al|el)(?=[b-df-hj-np-tv-z][a-z]{3})")


def _split_arabic_compounds(word: str) -> list[str]:
    if _ABD_PREFIX.match(word):
        return ["abd", _ABD_PREFIX.sub("", word)]
    return [_JOINED_ARTICLE.sub("", word)]


def normalise_name(value: str) -> tuple[str, ...]:
    """The name's parts as lowercase ASCII words, particles removed; empty for a blank value."""
    words = _latin_words(value)
    kept = tuple(
        part for w in words if w not in NAME_PARTICLES for part in _split_arabic_compounds(w)
    )
    return kept or tuple(words)


def normalise_text(value: str) -> tuple[str, ...]:
    """Free text (places, occupations) as lowercase ASCII words, every word kept."""
    return tuple(_latin_words(value))


def normalise_identifier(value: str) -> str:
    """Document and case numbers: upper-case ASCII letters and digits only.

    Agencies write the same passport number with spaces, dashes or in another script's
    digits; only the letters and digits identify it.
    """
    return _NON_ALNUM_UPPER.sub("", anyascii(unicodedata.normalize("NFKC", value)).upper())


def parse_number(value: str) -> Decimal | None:
    """A decimal number (``.`` as decimal mark, optional sign); None when blank or invalid.

    Spaces, thin spaces and underscores inside digits are ignored (``12 500``). Decimal keeps
    the text's exact value, so the exact token of ``2.50`` and ``2.5`` agree.
    """
    text = _NUMBER_SPACING.sub("", unicodedata.normalize("NFKC", value))
    if not _NUMBER.match(text):
        return None
    return Decimal(text)


def normalise_code(value: str) -> str:
    """Categorical codes (sex, nationality): NFKC, trimmed, upper case; empty when blank."""
    return unicodedata.normalize("NFKC", value).strip().upper()


_YMD = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_DMY = re.compile(r"^(?:(\d{1,2})[-/.])?(\d{1,2})[-/.](\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_OF_DAY = re.compile(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
#: Marks of an estimated date ("c. 1990", "~1990", "1990?"): the date is kept as written.
_ESTIMATE = re.compile(r"^(?:circa|approx\.?|about|abt\.?|ca\.?|c\.|~)\s*|\s*\?+$", re.IGNORECASE)
#: Years outside this range are typing errors or placeholders, not birth years.
YEAR_RANGE = (1880, 2100)


def _ascii_digits(text: str) -> str:
    """Digits of any script (Arabic-Indic, Devanagari, ...) as ASCII digits."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in text)


def _date_parts(text: str) -> tuple[int, int, int] | None:
    """Year, month, day as written (0 where a part is absent), or None if no layout fits.

    Day-first layouts (``03/05/1990``, ``03.05.1990``) are read day first unless the second
    number cannot be a month; the encoder's order-free month/day token absorbs a wrong guess.
    """
    if match := _YMD.match(text):
        return int(match[1]), int(match[2] or 0), int(match[3] or 0)
    if match := _COMPACT.match(text):
        return int(match[1]), int(match[2]), int(match[3])
    if match := _DMY.match(text):
        day, month = int(match[1] or 0), int(match[2])
        if month > 12 and 0 < day <= 12:
            day, month = month, day  # month first, as in the United States
        return int(match[3]), month, day
    return None


def parse_partial_date(value: str) -> tuple[int, int | None, int | None] | None:
    """A full or partial date as (year, month, day); None when blank or unusable.

    Accepts ISO ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (also with ``/`` or ``.``), day-first
    ``DD/MM/YYYY``, ``DD.MM.YYYY``, ``MM/YYYY``, compact ``YYYYMMDD``, digits of any script,
    a trailing time of day (spreadsheet exports) and estimate marks (``c. 1990``,
    ``1990?``). A month or day of ``00`` means that part is unknown. Unusable values
    (impossible months, years outside ``YEAR_RANGE``, other layouts) are treated as missing
    rather than as a value, and counted by the caller so the data officer hears about them.
    """
    text = _ascii_digits(unicodedata.normalize("NFKC", value)).strip()
    text = _ESTIMATE.sub("", _TIME_OF_DAY.sub("", text)).strip()
    parts = _date_parts(text)
    if parts is None:
        return None
    year, month, day = parts
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1] or month > 12 or day > 31:
        return None
    if month == 0:
        return year, None, None
    return year, month, day or None
