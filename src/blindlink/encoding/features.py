"""Feature extraction: normalised values become tokens to be hashed.

Every token carries a prefix naming its feature kind, so tokens of different kinds never
collide, while the same kind in two fields of one key group (given and family name) does
collide on purpose. Missing values yield no tokens: absence is not a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import jellyfish

_SKELETON_MAP = str.maketrans({"c": "k", "q": "k", "z": "s"})
_SKELETON_DROP = re.compile(r"[aeiouyhwv]+")
_REPEATS = re.compile(r"(.)\1+")


def _grams(text: str, n: int, padding: bool) -> list[str]:
    padded = f"_{text}_" if padding and n > 1 else text
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


def ngrams(
    words: tuple[str, ...], n: int, *, padding: bool = True, positional: bool = False
) -> list[str]:
    """Character n-grams of each word; ``padding`` marks the word's edges with ``_``.

    ``positional`` n-grams carry their offset in the word (prefix ``g{n}@{offset}``), so
    reordered letters no longer match; plain ones (prefix ``g{n}``) match anywhere.
    """
    tokens: list[str] = []
    for word in words:
        grams = _grams(word, n, padding)
        if positional:
            tokens.extend(f"g{n}@{i}:{gram}" for i, gram in enumerate(grams))
        else:
            tokens.extend(f"g{n}:{gram}" for gram in grams)
    return tokens


def consonant_skeleton(word: str) -> str:
    """The word's consonants with close sounds folded and repeats collapsed.

    Romanisations of one name differ mostly in vowels (Mohammed, Muhammad, Mohamed) and
    abjads such as Arabic script write few vowels at all (محمد -> mhmd); the skeleton of all
    of them is the same. The semivowels ``w`` and ``v`` are dropped with the vowels: one
    sound is written either way (Wladimir / Vladimir, Wittaya / Vittaya, Alawi / Alaoui).
    """
    folded = word.replace("ph", "f").translate(_SKELETON_MAP)
    return _REPEATS.sub(r"\1", _SKELETON_DROP.sub("", folded))


def skeleton_ngrams(words: tuple[str, ...], n: int, *, padding: bool = True) -> list[str]:
    """n-grams of each word's consonant skeleton (prefix ``s{n}``)."""
    tokens: list[str] = []
    for word in words:
        skeleton = consonant_skeleton(word)
        if skeleton:
            tokens.extend(f"s{n}:{gram}" for gram in _grams(skeleton, n, padding))
    return tokens


def name_words(words: tuple[str, ...]) -> list[str]:
    """Each word of a name as a whole token."""
    return [f"w:{word}" for word in words]


PHONETIC_CODES: dict[str, Callable[[str], str]] = {
    "soundex": jellyfish.soundex,
    "metaphone": jellyfish.metaphone,
    "nysiis": jellyfish.nysiis,
    "match_rating": jellyfish.match_rating_codex,
}


def phonetic(words: tuple[str, ...], algorithm: str) -> list[str]:
    """A phonetic code per word (on the transliterated, lower-case word), prefix ``p``.

    Digits-only words have no sound and give no token.
    """
    code = PHONETIC_CODES[algorithm]
    return [f"p:{algorithm}:{code(word)}" for word in words if not word.isdigit()]


def exact(code: str) -> list[str]:
    """A code, identifier or number as a single token; nothing for a blank code."""
    return [f"x:{code}"] if code else []


def numeric(value: float, tolerance: float, resolution: int) -> list[str]:
    """Grid tokens so that numbers closer than ``tolerance`` share tokens.

    The grid step is ``tolerance / resolution``; a number emits the ``resolution + 1`` grid
    points at or below it within ``tolerance``. Two numbers ``d`` steps apart share
    ``resolution + 1 - d`` tokens: similarity falls linearly with distance and reaches zero
    beyond the tolerance.
    """
    step = tolerance / resolution
    cell = math.floor(value / step)
    return [f"n:{cell - j}" for j in range(resolution + 1)]


def year(year_value: int, tolerance: int) -> list[str]:
    """Tokens for the year and its neighbours, so a year off by one still shares most tokens."""
    return [f"y:{year_value + delta}" for delta in range(-tolerance, tolerance + 1)]


def month_year(year_value: int, month: int | None) -> list[str]:
    """Year and month as one token: agrees only when both do (nothing without a month)."""
    return [f"ym:{year_value}-{month:02d}"] if month is not None else []


def month_day(month: int | None, day: int | None) -> list[str]:
    """Month and day tokens, plus an order-free pair token that survives a day/month swap."""
    tokens: list[str] = []
    if month is not None:
        tokens.append(f"m:{month:02d}")
    if day is not None:
        tokens.append(f"d:{day:02d}")
    if month is not None and day is not None:
        low, high = sorted((month, day))
        tokens.append(f"md:{low:02d}-{high:02d}")
    return tokens
