"""Feature extraction: normalised values become tokens to be hashed.

Every token carries a prefix naming its feature kind, so tokens of different kinds never
collide, while the same kind in two fields of one key group (given and family name) does
collide on purpose. Missing values yield no tokens: absence is not a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jellyfish

_SKELETON_MAP = str.maketrans({"c": "k", "q": "k", "z": "s"})
_SKELETON_DROP = re.compile(r"[aeiouyhw]+")
_REPEATS = re.compile(r"(.)\1+")


def ngrams(words: tuple[str, ...], n: int) -> list[str]:
    """Padded character n-grams of each word (``_`` marks the word's edges)."""
    tokens: list[str] = []
    for word in words:
        padded = f"_{word}_" if n > 1 else word
        tokens.extend(f"g{n}:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return tokens


def consonant_skeleton(word: str) -> str:
    """The word's consonants with close sounds folded and repeats collapsed.

    Romanisations of one name differ mostly in vowels (Mohammed, Muhammad, Mohamed) and
    abjads such as Arabic script write few vowels at all (محمد -> mhmd); the skeleton of all
    of them is the same.
    """
    folded = word.replace("ph", "f").translate(_SKELETON_MAP)
    return _REPEATS.sub(r"\1", _SKELETON_DROP.sub("", folded))


def skeleton_ngrams(words: tuple[str, ...], n: int) -> list[str]:
    """Padded n-grams of each word's consonant skeleton."""
    tokens: list[str] = []
    for word in words:
        skeleton = consonant_skeleton(word)
        if not skeleton:
            continue
        padded = f"_{skeleton}_" if n > 1 else skeleton
        tokens.extend(f"s{n}:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
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
    """A categorical code as a single token; nothing for a blank code."""
    return [f"x:{code}"] if code else []


def year(year_value: int, tolerance: int) -> list[str]:
    """Tokens for the year and its neighbours, so a year off by one still shares most tokens."""
    return [f"y:{year_value + delta}" for delta in range(-tolerance, tolerance + 1)]


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
