"""String-level corruptions: the small, cheap edits that real case workers make.

Why separate functions: each one models one observed error process (a slip of the finger on a
QWERTY keyboard, an ASCII-only database, an Amharic writer choosing between homophone letters)
and is recorded by name in the truth, so linkage quality can be reported per error kind.
All take a ``random.Random``-style ``randbelow``/``random`` pair of callables instead of
drawing from a global generator, so the generator stays deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from anyascii import anyascii

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    """Letters physically next to each letter on a QWERTY keyboard (same and adjacent rows)."""
    pos: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(_QWERTY_ROWS):
        for c, ch in enumerate(row):
            pos[ch] = (r, c)
    # Each row sits about half a key to the right of the one above it, so the keys touching
    # (r, c) are (r, c +- 1), (r - 1, c) and (r - 1, c + 1), (r + 1, c - 1) and (r + 1, c).
    touching = {(0, -1), (0, 1), (-1, 0), (-1, 1), (1, -1), (1, 0)}
    out: dict[str, str] = {}
    for ch, (r, c) in pos.items():
        near = [other for other, (r2, c2) in pos.items() if (r2 - r, c2 - c) in touching]
        out[ch] = "".join(sorted(near))
    return out


KEYBOARD_NEIGHBOURS: dict[str, str] = _keyboard_neighbours()

#: Accented forms a clerk may wrongly add to a plain letter.
_ACCENTABLE: dict[str, str] = {
    "a": "áàâä",
    "e": "éèêë",
    "i": "íìî",
    "o": "óòôö",
    "u": "úùûü",
    "n": "ñ",
    "c": "çč",
    "s": "şš",
    "z": "ž",
}

#: Prefixes that are written joined, spaced or hyphenated depending on the writer.
_SPLITTABLE_PREFIXES: tuple[str, ...] = (
    "abdul",
    "abdel",
    "abd",
    "abu",
    "al",
    "el",
    "ben",
    "bin",
    "bou",
    "dela",
    "del",
    "de",
    "gebre",
    "ghebre",
    "wolde",
    "haile",
    "tekle",
    "kidane",
    "sae",
)

_ASCII_CACHE: dict[str, str] = {}


def strip_diacritics(text: str) -> str:
    """Latin text without accents (``Ștefan`` -> ``Stefan``, ``Đặng`` -> ``Dang``).

    Only called on Latin-script strings: an ASCII-only database or keyboard does exactly this.
    """
    hit = _ASCII_CACHE.get(text)
    if hit is None:
        hit = text if text.isascii() else anyascii(text)
        if len(_ASCII_CACHE) < 200_000:
            _ASCII_CACHE[text] = hit
    return hit


def add_diacritic(text: str, rng: random.Random) -> str:
    """Put a plausible but wrong accent on one letter (``Maria`` -> ``Marìa``)."""
    spots = [i for i, ch in enumerate(text) if ch.lower() in _ACCENTABLE]
    if not spots:
        return text
    i = spots[rng.randrange(len(spots))]
    ch = text[i]
    repl = rng.choice(_ACCENTABLE[ch.lower()])
    if ch.isupper():
        repl = repl.upper()
    return text[:i] + repl + text[i + 1 :]


def typo(text: str, rng: random.Random, alphabet: str) -> tuple[str, str]:
    """One keying error; returns the new text and its kind.

    Latin letters are replaced or inserted with keyboard neighbours (the commonest real
    slip); other scripts use a letter of the same script from ``alphabet``.
    """
    n = len(text)
    if n < 2:
        return text, ""
    u = rng.random()
    i = rng.randrange(n)
    if u < 0.25:
        if text[i] == " ":
            return text, ""
        return text[:i] + text[i + 1 :], "typo_delete"
    if u < 0.75:
        ch = text[i]
        if ch == " " or ch == "-":
            return text, ""
        near = KEYBOARD_NEIGHBOURS.get(ch.lower())
        if near:
            new = near[rng.randrange(len(near))]
            if ch.isupper():
                new = new.upper()
        elif alphabet:
            new = alphabet[rng.randrange(len(alphabet))]
            if ch.isupper():
                new = new.upper()
        else:
            return text, ""
        if new == ch:
            return text, ""
        if u < 0.45:
            return text[:i] + new + text[i:], "typo_insert"
        return text[:i] + new + text[i + 1 :], "typo_substitute"
    if i == n - 1:
        i -= 1
    a, b = text[i], text[i + 1]
    if a == b or a == " " or b == " ":
        return text, ""
    return text[:i] + b + a + text[i + 2 :], "typo_transpose"


def spacing_variant(text: str, rng: random.Random) -> str:
    """Join, split or re-hyphenate compound names (``Al-Hassan`` / ``Al Hassan`` / ``Alhassan``,
    ``Gebre Mariam`` / ``Gebremariam``, ``Ana-Maria`` / ``Ana Maria``)."""
    if "-" in text:
        return text.replace("-", " " if rng.random() < 0.6 else "", 1)
    if " " in text:
        return text.replace(" ", "" if rng.random() < 0.6 else "-", 1)
    low = text.lower()
    for prefix in _SPLITTABLE_PREFIXES:
        if low.startswith(prefix) and len(text) >= len(prefix) + 3:
            rest = text[len(prefix) :]
            if not rest[:1].isalpha():
                return text
            sep = " " if rng.random() < 0.5 else "-"
            head = text[: len(prefix)]
            if rest[:1].islower() and head[:1].isupper():
                rest = rest[:1].upper() + rest[1:]
            return head + sep + rest
    return text


def whitespace_noise(text: str, rng: random.Random) -> str:
    """Stray spaces: a leading or trailing blank, or a doubled inner space."""
    if not text:
        return text
    u = rng.random()
    if u < 0.4:
        return text + " "
    if u < 0.7:
        return " " + text
    if " " in text:
        return text.replace(" ", "  ", 1)
    return text + "  "


def case_noise(text: str, rng: random.Random) -> str:
    """A record typed in the wrong case: all lower, all upper, or a lower-case initial."""
    u = rng.random()
    if u < 0.4:
        return text.lower()
    if u < 0.8:
        return text.upper()
    return text[:1].lower() + text[1:]


# ---- native-script orthographic variants ---------------------------------------------------

_ARABIC_NORMALISE = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})


def arabic_variant(text: str) -> str:
    """Hamza seats dropped, taa marbuta as haa, alif maqsura as yaa: how many keyboards and
    databases store Arabic names."""
    return text.translate(_ARABIC_NORMALISE)


def russian_variant(text: str) -> str:
    """``ё`` written as ``е`` (Артём -> Артем), the norm in most Russian documents."""
    return text.replace("ё", "е").replace("Ё", "Е")


def _ethiopic_table() -> dict[int, int]:
    """Homophone Ge'ez letters collapsed to the commonest one (ሐ/ኀ -> ሀ, ሠ -> ሰ, ፀ -> ጸ,
    ዐ -> አ): Amharic writers choose freely between them, so ኃይሌ and ሀይሌ are the same name."""
    table: dict[int, int] = {}
    for src, dst in (
        (0x1210, 0x1200),
        (0x1280, 0x1200),
        (0x1220, 0x1230),
        (0x1340, 0x1338),
        (0x12D0, 0x12A0),
    ):
        for k in range(7):
            table[src + k] = dst + k
    return table


_ETHIOPIC = _ethiopic_table()


def ethiopic_variant(text: str) -> str:
    """See :func:`_ethiopic_table`."""
    return text.translate(_ETHIOPIC)


_DEVANAGARI = str.maketrans({"ी": "ि", "ू": "ु"})


def devanagari_variant(text: str) -> str:
    """Long vowel signs written short (सुनील -> सुनिल), common in Nepali spelling."""
    return text.translate(_DEVANAGARI)


def make_han_variant(traditional: dict[str, str]) -> Callable[[str], str]:
    """Simplified -> traditional characters, as written in Taiwan or Hong Kong records."""
    table = str.maketrans(traditional)

    def han_variant(text: str) -> str:
        return text.translate(table)

    return han_variant
