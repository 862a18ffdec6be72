"""Keyed blocking keys, computed at the agency: which records the coordinator may compare.

A schema's ``blocking_keys`` describe cheap, coarse features of a record (the soundex code of
each name word with the birth year, the pair of consonant skeletons of two name words, ...).
Records that share a value of some key are compared by the coordinator (``link --blocking
keys``); others are not, so a large caseload needs far fewer comparisons than all pairs.

Why here, and keyed: the features are computed from the plaintext, so only the agency can
compute them, and they must not leave it readable. Each value is ``HMAC-SHA256`` under a key
derived from the linkage secret for that blocking key (HKDF purpose ``blocking:<name>``),
truncated to 8 bytes: the coordinator learns which records agree on a key, never on what
(``protocols/keys.md``, ``docs/privacy.md`` for what equality itself reveals).

Values are computed after the field's own normalisation (``encoder.field_normaliser``:
transliteration, codes, placeholders), so a native-script name and its romanised twin get
the same value exactly where the encoder would give them the same tokens; a placeholder or
an unusable value is missing. A record's values of one key are every combination of one
value of each part (a part without a value: no value for that key), at most
:data:`MAX_VALUES` of them (the smallest, so the choice depends on nothing but the values).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from blindlink.encoding.encoder import field_normaliser
from blindlink.encoding.features import PHONETIC_CODES, consonant_skeleton
from blindlink.encoding.keys import derive_key
from blindlink.schema import BlockingKey, BlockingKeyPart, FieldSpec, LinkageSchema
from blindlink.types import RecordBlockingKeys

__all__ = ["MAX_VALUES", "MAX_WORDS", "VALUE_BYTES", "BlockingKeyCoder", "key_message"]

#: Bytes of each value: the first 8 bytes of the HMAC. 2^64 values: collisions between
#: distinct feature values are negligible (a few in 10^9 pairs of distinct values at most).
VALUE_BYTES = 8
#: Name words a name part reads (the first ones): bounds the values of a ``pairs`` part.
MAX_WORDS = 8
#: Values of one key per record, at most (the smallest are kept).
MAX_VALUES = 256
#: Separates the parts of a key in the HMAC message; separates two words of a ``pairs`` part.
PART_SEPARATOR = "\x1f"
WORD_SEPARATOR = " "
#: Cached values per part before the cache is emptied (bounds memory on huge files).
_CACHE_LIMIT = 1 << 20

#: A record's raw values of a part's fields to the part's values (texts).
PartValues = Callable[[tuple[str, ...]], frozenset[str]]


def key_message(part_values: Sequence[str]) -> bytes:
    """The HMAC message of one key value: its parts' texts joined by U+001F, UTF-8."""
    return PART_SEPARATOR.join(part_values).encode("utf-8")


def _word_codes(part: BlockingKeyPart) -> Callable[[str], str]:
    """The text a name feature makes of one (transliterated, lower-case) word."""
    if part.feature == "phonetic":
        return PHONETIC_CODES[part.algorithm]
    if part.feature == "skeleton":
        length = part.length
        return lambda word: (consonant_skeleton(word) or word)[:length]
    return lambda word: word[:1]  # initial


class _FieldReader:
    """A field's raw text to its normal form (None when missing), as the encoder reads it;
    cached per text and shared by every part that reads the field (normalising a name is
    the costly step)."""

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self._normalise, self._placeholders = field_normaliser(spec)
        self._cache: dict[str, Any] = {}

    def __call__(self, raw: str) -> Any:
        if raw in self._cache:
            return self._cache[raw]
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        normal = self._normalise(raw)
        if not normal or normal in self._placeholders:
            normal = None
        self._cache[raw] = normal
        return normal


class _WordCodes:
    """One name field's words as one feature's codes ('' for a word without one), cached."""

    def __init__(self, reader: _FieldReader, code: Callable[[str], str]) -> None:
        self._reader = reader
        self._code = code
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, raw: str) -> tuple[str, ...]:
        hit = self._cache.get(raw)
        if hit is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            words = self._reader(raw) or ()
            hit = self._cache[raw] = tuple(self._code(w) for w in words if not w.isdigit())
        return hit


def _name_part(part: BlockingKeyPart, readers: Sequence[_FieldReader]) -> PartValues:
    """Values of a name part: a code per word (or per pair of words) of its pooled fields,
    the first :data:`MAX_WORDS` words in field order."""
    columns = [_WordCodes(reader, _word_codes(part)) for reader in readers]
    pairs = part.words == "pairs"

    def values(raws: tuple[str, ...]) -> frozenset[str]:
        if len(columns) == 1:
            codes = columns[0](raws[0])
        else:
            codes = tuple(c for column, raw in zip(columns, raws, strict=True) for c in column(raw))
        codes = tuple(c for c in codes[:MAX_WORDS] if c)
        if not pairs:
            return frozenset(codes)
        return frozenset(
            WORD_SEPARATOR.join(sorted(pair)) for pair in itertools.combinations(codes, 2)
        )

    return values


def _date_part(part: BlockingKeyPart, reader: _FieldReader) -> PartValues:
    """Values of a date part: the year, or the order-free month and day of a full date."""
    spec = reader.spec
    unknown = frozenset(day for feature in spec.features for day in feature.unknown_month_days)

    def values(raws: tuple[str, ...]) -> frozenset[str]:
        normal = reader(raws[0])
        if normal is None:
            return frozenset()
        year, month, day = normal
        if part.feature == "year":
            return frozenset({f"{year:04d}"})
        if month is None or day is None or f"{month:02d}-{day:02d}" in unknown:
            return frozenset()  # a placeholder for "only the year is known" is no birthday
        low, high = sorted((month, day))
        return frozenset({f"{low:02d}-{high:02d}"})

    return values


def _exact_part(reader: _FieldReader) -> PartValues:
    """Values of an exact part: the normalised code or identifier."""

    def values(raws: tuple[str, ...]) -> frozenset[str]:
        normal = reader(raws[0])
        return frozenset() if normal is None else frozenset({str(normal)})

    return values


class _CompiledPart:
    """One part of a key: the CSV columns it reads and its values, cached per raw text.

    Parts are shared between keys that have the same part (the built-in schema's
    ``name_year`` and ``name_sex`` both start with the soundex codes of the name words), and
    each part's values are computed once per record for all of them.
    """

    def __init__(self, part: BlockingKeyPart, readers: Mapping[str, _FieldReader]) -> None:
        chosen = [readers[name] for name in part.fields]
        self.columns = tuple(reader.spec.column for reader in chosen)
        if part.feature in ("phonetic", "skeleton", "initial"):
            self._values = _name_part(part, chosen)
        elif part.feature in ("year", "month_day"):
            self._values = _date_part(part, chosen[0])
        else:
            self._values = _exact_part(chosen[0])
        self._cache: dict[tuple[str, ...], frozenset[str]] = {}

    def values(self, raws: tuple[str, ...]) -> frozenset[str]:
        hit = self._cache.get(raws)
        if hit is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            hit = self._cache[raws] = self._values(raws)
        return hit

    def column(self, columns: Mapping[str, Sequence[Any]], count: int) -> list[frozenset[str]]:
        """Each record's values of this part."""
        cells = [[str(v or "") for v in columns[column][:count]] for column in self.columns]
        return [self.values(raw) for raw in zip(*cells, strict=True)]


class _CompiledKey:
    """One blocking key: its parts and its HMAC key; each message is hashed once."""

    def __init__(
        self, key: BlockingKey, parts: Mapping[BlockingKeyPart, _CompiledPart], secret: bytes
    ) -> None:
        self.name = key.name
        self.specs = key.parts
        self.parts = [parts[part] for part in key.parts]
        self._key = derive_key(secret, f"blocking:{key.name}")
        self._hashed: dict[tuple[str, ...], int] = {}

    def value(self, texts: tuple[str, ...]) -> int:
        """The key value of one combination of part texts: the HMAC's first 8 bytes."""
        hit = self._hashed.get(texts)
        if hit is None:
            if len(self._hashed) >= _CACHE_LIMIT:
                self._hashed.clear()
            tag = hmac.digest(self._key, key_message(texts), hashlib.sha256)
            hit = self._hashed[texts] = int.from_bytes(tag[:VALUE_BYTES], "big")
        return hit

    def column(self, per_part: Sequence[list[frozenset[str]]]) -> list[list[int]]:
        """Each record's values (distinct, ascending, at most :data:`MAX_VALUES`), given each
        part's values of each record."""
        out: list[list[int]] = []
        value = self.value
        for texts in zip(*per_part, strict=True):
            if not all(texts):
                out.append([])
            elif len(texts) == 1:
                out.append(sorted({value((text,)) for text in texts[0]})[:MAX_VALUES])
            else:
                combos = itertools.product(*map(sorted, texts))
                out.append(sorted({value(combo) for combo in combos})[:MAX_VALUES])
        return out


class BlockingKeyCoder:
    """Computes the blocking-key values an encoded file carries, for the schema's keys.

    Built once per file from the schema and the secret (only the derived keys are kept);
    :meth:`keys` turns columns of records into :class:`RecordBlockingKeys`.
    """

    def __init__(self, schema: LinkageSchema, secret: bytes) -> None:
        readers = {spec.name: _FieldReader(spec) for spec in schema.fields}
        self._parts = {
            part: _CompiledPart(part, readers) for key in schema.blocking_keys for part in key.parts
        }
        self._keys = [_CompiledKey(key, self._parts, secret) for key in schema.blocking_keys]
        self.names = tuple(key.name for key in self._keys)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The CSV columns read, in order, each once."""
        return tuple(
            dict.fromkeys(c for key in self._keys for part in key.parts for c in part.columns)
        )

    def keys(self, columns: Mapping[str, Sequence[Any]], count: int) -> RecordBlockingKeys:
        """Blocking-key values of ``count`` records given as columns (``None`` reads as
        blank)."""
        per_part = {spec: part.column(columns, count) for spec, part in self._parts.items()}
        per_key = [key.column([per_part[spec] for spec in key.specs]) for key in self._keys]
        counts = np.array(
            [[len(found) for found in column] for column in per_key], dtype=np.uint16
        ).T.reshape(count, len(self._keys))
        values = [v for record in zip(*per_key, strict=True) for found in record for v in found]
        return RecordBlockingKeys(self.names, counts, np.array(values, dtype=np.uint64))
