"""clkhash linkage schemas (version 3): CLKs bit-identical to clkhash's, made by blindlink.

Agencies that already link with the anonlink ecosystem describe their encoding in a clkhash
linkage schema and share a text secret. This module reads such a schema and encodes records
exactly as clkhash 0.18 does, so that a blindlink agency and a clkhash agency produce
comparable CLKs from one secret, and a blindlink coordinator can link CLKs from either.

It is an independent implementation of the published algorithm (clkhash's schema
documentation and the behaviour of its reference code), checked bit for bit against the
clkhash package in ``tests/test_clkhash_compat.py``. The steps, per record and feature:

1. *Keys*: HKDF (RFC 5869) over the UTF-8 secret, with the schema's ``salt``, ``info`` and
   hash, yields ``2 * len(features)`` keys of ``keySize`` bytes; feature ``i`` (counting
   ignored features too) owns keys ``2i`` and ``2i + 1``.
2. *Validation*: the raw value is checked against the feature's ``format`` (length, case,
   pattern, integer range, date format, enum values, encodability); a value equal to the
   ``missingValue`` sentinel skips the checks.
3. *Formatting*: a sentinel becomes ``replaceWith`` (default: the sentinel itself);
   otherwise integers are rewritten canonically (``' +07'`` -> ``'7'``) and dates as
   ``%Y%m%d``.
4. *Tokens*: n-grams (padded with ``n - 1`` spaces each side when ``n > 1``, positional ones
   prefixed ``"<1-based position> "``), the whole value (``exact``), or a numeric
   neighbourhood (``numeric``).
5. *Bits per token*: ``bitsPerToken`` k for every token, or ``bitsPerFeature`` spread over
   the tokens (the first ``b mod t`` tokens get one bit more).
6. *Hashing*: ``blakeHash`` (keyed BLAKE2b, salt ``str(j)``, digest read as little-endian
   16-bit words) or ``doubleHash`` (HMAC-SHA1 + i * HMAC-MD5, optionally re-hashing the MD5
   part while it is 0 mod l: ``prevent_singularity``), over a filter of
   ``l * 2**xor_folds`` bits.
7. *Folding*: the record's filter is XOR-folded ``xor_folds`` times to ``l`` bits.

The steps run per distinct value and token, not per record, so that encoding costs far less
than clkhash's on the same machine: each feature caches, for every distinct raw value, the
packed row of bits it sets (a record is then a dict lookup and a row OR per feature, see
:mod:`blindlink.encoding.assemble`), and for every token the seed of its keyed hash (so no
HMAC or BLAKE2b is computed twice for a token, whatever number of bits it gets). New values
are checked, formatted and tokenised a block at a time, n-grams as integers
(:class:`_NgramCodes`), and turned into rows with numpy (:class:`_Tokens`).

Where clkhash would reject a value, :class:`ClkhashEncoder` raises :class:`InputError`
naming the record and the column, never the value. Schema features this module cannot
reproduce faithfully are refused with :class:`SchemaError` and a JSON location.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain, compress
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from Crypto.Hash import SHA256, SHA512
from Crypto.Protocol.KDF import HKDF

from blindlink.encoding.assemble import or_rows, or_segments, pack_positions, xor_fold
from blindlink.encoding.encoder import EncodeReport, FieldCounts
from blindlink.encoding.keys import key_check_value
from blindlink.errors import InputError, SchemaError
from blindlink.io.json_kind import json_kind
from blindlink.schema import canonical_json
from blindlink.schema.model import read_schema_document

__all__ = [
    "SUPPORTED_VERSION",
    "ClkhashEncoder",
    "is_clkhash_schema",
    "load_schema_document",
]

#: The clkhash linkage schema version this module implements.
SUPPORTED_VERSION = 3
#: Largest encoding blindlink accepts (as for its own schemas and the .blk format).
MAX_FILTER_BITS = 1 << 20
#: Largest filter before folding: bounds the work a hostile schema can ask for.
MAX_HASH_BITS = 1 << 24
#: clkhash's default HKDF key size in bytes (the HMAC block size of SHA-1 and MD5).
DEFAULT_KEY_SIZE = 64
#: BLAKE2b accepts keys of at most this many bytes.
_BLAKE_MAX_KEY = 64
#: Bytes of packed rows cached per feature for distinct values before that cache is emptied:
#: bounds memory on huge files, where most addresses are unique and barely worth caching.
_VALUE_ROWS_BYTES = 1 << 23
#: Bytes of packed rows cached per feature for distinct tokens before that cache is emptied.
_TOKEN_ROWS_BYTES = 1 << 22
#: Widest unfolded filter (in bytes) for which tokens get cached rows; wider ones (rare:
#: over 8192 bits) combine cached token positions instead, to keep the token cache small.
_TOKEN_ROW_MAX_BYTES = 1 << 10
#: Tokens whose keyed hashes are cached, per feature, before that cache is emptied.
_TOKEN_CACHE_LIMIT = 1 << 16
#: New values' tokens handled at once, at most: keeps the token rows one group needs in the
#: token cache, and numpy calls few.
_GROUP_TOKENS = 1 << 14
#: Records encoded at once, at most: with wide filters fewer (see :func:`_block_records`).
_BLOCK_RECORDS = 1 << 15

_KDF_HASHES: dict[str, Any] = {"SHA256": SHA256, "SHA512": SHA512}
_STRING_ENCODINGS = ("ascii", "utf-8", "utf-16", "utf-32")
_CASES = ("upper", "lower", "mixed")
_HASH_TYPES = ("blakeHash", "doubleHash")
_COMPARISONS = ("ngram", "exact", "numeric")
_FORMAT_TYPES = ("string", "integer", "date", "enum")
_IGNORE_KEYS = frozenset({"identifier", "ignored", "description"})
_HASHING_KEYS = frozenset({"hash", "strategy", "comparison", "missingValue"})
_STRATEGY_KEYS = ("bitsPerToken", "bitsPerFeature")
_FORMAT_KEYS: dict[str, frozenset[str]] = {
    "string": frozenset({"type", "encoding", "case", "minLength", "maxLength", "description"}),
    "string-pattern": frozenset({"type", "encoding", "pattern", "description"}),
    "integer": frozenset({"type", "minimum", "maximum", "description"}),
    "date": frozenset({"type", "format", "description"}),
    "enum": frozenset({"type", "values", "description"}),
}
_DATE_OUTPUT = "%Y%m%d"


def is_clkhash_schema(document: Any) -> bool:
    """Whether ``document`` looks like a clkhash linkage schema (of any version).

    clkhash schemas have a ``clkConfig`` object; blindlink schemas never do. Documents of
    clkhash versions other than 3 are recognised too, so that they get a clear "unsupported
    version" error from :class:`ClkhashEncoder` instead of blindlink-schema errors.
    """
    return isinstance(document, dict) and "clkConfig" in document


def load_schema_document(path: str | Path) -> Any:
    """The JSON document in ``path``, for :func:`is_clkhash_schema` to inspect."""
    return read_schema_document(path)


# ------------------------------------------------------------------------ schema checking


class _Problems:
    """Schema problems collected in one pass, each with its JSON location."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)


def _int_at_least(problems: _Problems, where: str, value: object, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(where, f"must be an integer, not {json_kind(value)}")
        return None
    if value < minimum:
        problems.add(where, f"must be at least {minimum}")
        return None
    return value


def _object(problems: _Problems, where: str, value: object) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.add(where, f"must be a JSON object, not {json_kind(value)}")
        return None
    return value


def _no_other_keys(
    problems: _Problems, where: str, value: Mapping[str, Any], allowed: frozenset[str]
) -> None:
    for key in sorted(set(value) - allowed):
        problems.add(f"{where}.{key}", "is not allowed here by the clkhash v3 schema")


def _decode_base64(problems: _Problems, where: str, value: object) -> bytes | None:
    """Decode as clkhash does (``base64.b64decode``, which skips foreign characters)."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(where, f"must be a base64 string, not {json_kind(value)}")
        return None
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError):
        problems.add(where, "is not valid base64")
        return None


#: Why a value is rejected when its feature is compared numerically and it is no number.
_NOT_A_NUMBER = "is not a number (the schema compares this feature numerically)"


class _BadRecord(Exception):
    """The first value of a block that clkhash would reject: its position and the rule."""

    def __init__(self, position: int, rule: str) -> None:
        super().__init__(rule)
        self.position = position
        self.rule = rule


Validator = Callable[[str], str | None]
Formatter = Callable[[str], str | None]
Tokenizer = Callable[[str], list[str] | None]
_Key = TypeVar("_Key")
#: A group of values' tokens, flat: strings, or integer codes (see :class:`_NgramCodes`).
TokenKeys = list[str] | npt.NDArray[np.int64]


class _Strategy:
    """How many bits each token gets: ``bitsPerToken`` k, or ``bitsPerFeature`` spread over
    the tokens (the first ``b mod t`` tokens get one bit more)."""

    def __init__(self, *, per_token: int | None, per_feature: int | None) -> None:
        self._per_token = per_token
        self._per_feature = per_feature or 0
        #: The most bits one token can get.
        self.most = per_token if per_token is not None else self._per_feature

    def bits(self, counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The bits of every token of values with ``counts`` tokens each (flat, in order)."""
        total = int(counts.sum())
        if self._per_token is not None:
            return np.full(total, self._per_token, dtype=np.int64)
        owner = np.repeat(np.arange(len(counts)), counts)
        starts = np.cumsum(counts) - counts
        place = np.arange(total, dtype=np.int64) - starts[owner]
        share, extra = np.divmod(self._per_feature, counts[owner])
        return share + (place < extra)


class _Growing:
    """A numpy array appended to in batches (capacity doubles): a per-value table."""

    def __init__(self, row_shape: tuple[int, ...], dtype: type[np.generic]) -> None:
        self._data: npt.NDArray[Any] = np.empty((16, *row_shape), dtype=dtype)
        self.size = 0

    @property
    def array(self) -> npt.NDArray[Any]:
        return self._data[: self.size]

    def append(self, rows: npt.NDArray[Any]) -> None:
        need = self.size + len(rows)
        if need > len(self._data):
            shape = (max(need, 2 * len(self._data)), *self._data.shape[1:])
            grown = np.empty(shape, dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = rows
        self.size = need

    def clear(self) -> None:
        self.size = 0


def _lookup(index: Mapping[_Key, int], keys: Sequence[_Key]) -> npt.NDArray[np.intp]:
    """``[index[key] for key in keys]`` as an array (one C call: itemgetter over the keys)."""
    if len(keys) > 1:
        return np.fromiter(itemgetter(*keys)(index), dtype=np.intp, count=len(keys))
    return np.array([index[key] for key in keys], dtype=np.intp)


class _Feature:
    """One non-ignored feature, compiled: raw values -> rows of a table of packed filters.

    Every distinct raw value is checked, formatted and tokenised once; what it sets in the
    unfolded filter is kept as one packed row (``table``), so a record costs one dict lookup
    and one row OR per feature (see :mod:`blindlink.encoding.assemble`). The rows of new
    values come from :class:`_Tokens`, a block of them at a time.
    """

    def __init__(
        self,
        *,
        identifier: str,
        validators: list[Validator],
        formatter: Formatter,
        format_rule: str,
        tokenizer: Tokenizer,
        tokens_cover_text: bool,
        codes: _NgramCodes | None,
        tokens: _Tokens,
        encoding: str,
        sentinel: str | None,
        replacement: str | None,
        validate: bool,
    ) -> None:
        self.identifier = identifier
        self._validators = validators if validate else []
        self._format = formatter
        self._format_rule = format_rule
        self._tokenize = tokenizer
        self._tokens_cover_text = tokens_cover_text
        self._codes = codes
        self._tokens = tokens
        self._encoding = encoding
        self._sentinel = sentinel
        self._replacement = replacement
        self._unencodable = f"cannot be encoded as {encoding}"
        row_bytes = tokens.hash_bits // 8
        self._values: dict[str, int] = {}
        self._rows = _Growing((row_bytes,), np.uint8)
        self._missing = _Growing((), np.bool_)
        self._value_capacity = max(
            2 * _block_records(tokens.hash_bits), _VALUE_ROWS_BYTES // row_bytes
        )

    @property
    def table(self) -> npt.NDArray[np.uint8]:
        """Packed unfolded rows, indexed by what :meth:`rows_of` returns."""
        return self._rows.array

    def missing_count(self, rows: npt.NDArray[np.intp]) -> int:
        """How many of ``rows`` (from :meth:`rows_of`) are of missing values."""
        return int(np.count_nonzero(self._missing.array[rows]))

    def rows_of(self, values: Sequence[str]) -> npt.NDArray[np.intp]:
        """The table row of every value, computing rows for values not seen before.

        Raises :class:`_BadRecord` for the first value clkhash would reject (the other new
        values are still cached). The table may be emptied at the start of a call, never
        during one, so the rows returned stay valid until the next call.
        """
        if len(self._values) + len(values) > self._value_capacity:
            self._values.clear()
            self._rows.clear()
            self._missing.clear()
        index = self._values
        new = set(values).difference(index)
        if new:
            bad = self._add(new)
            if bad:
                position = next(i for i, raw in enumerate(values) if raw in bad)
                raise _BadRecord(position, bad[values[position]])
        return _lookup(index, values)

    def _add(self, new: set[str]) -> dict[str, str]:
        """Cache the rows of ``new`` values; return the rejected ones with their rules.

        Each step (a check, formatting, tokenising) runs over all values before the next
        (``map``: no Python loop per value), dropping the values it rejects, so a value is
        rejected by the first rule it breaks, in the order clkhash checks them. The values
        then go to :class:`_Tokens` in groups of about ``_Tokens.group`` tokens.
        """
        bad: dict[str, str] = {}
        sentinel = self._sentinel
        raws = list(new)
        if sentinel in new:
            raws.remove(sentinel)
        for check in self._validators:
            (raws,) = _drop_rejected(bad, raws, list(map(check, raws)), raws)
        texts: list[str] = raws
        if self._format is not _same:
            formatted = list(map(self._format, raws))
            if None in formatted:
                rule = self._format_rule
                rules = [None if text is not None else rule for text in formatted]
                raws, formatted = _drop_rejected(bad, raws, rules, raws, formatted)
            texts = cast(list[str], formatted)
        if sentinel in new:
            raws = [*raws, sentinel]
            texts = [*texts, self._replacement or ""]
        if self._tokens_cover_text and not self._encodable("".join(texts)):
            # every character is in some token, so a text encodes iff all its tokens do
            rules = [None if self._encodable(text) else self._unencodable for text in texts]
            raws, texts = _drop_rejected(bad, raws, rules, raws, texts)
        keys: TokenKeys
        if self._codes is not None and self._codes.fits(texts):
            counts, keys = self._codes.codes(texts)
        else:
            tokens = list(map(self._tokenize, texts))
            if None in tokens:
                numeric = [None if found is not None else _NOT_A_NUMBER for found in tokens]
                raws, tokens = _drop_rejected(bad, raws, numeric, raws, tokens)
            token_lists = cast(list[list[str]], tokens)
            counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
            keys = list(chain.from_iterable(token_lists))
        missing = counts == 0
        if sentinel in new and raws and raws[-1] == sentinel:
            missing[-1] = True
        ends = np.cumsum(counts)
        group = self._tokens.group
        total = int(ends[-1]) if raws else 0
        inner = np.searchsorted(ends, np.arange(group, total, group), side="right")
        cuts = [0, *inner.tolist(), len(raws)]
        for start, end in zip(cuts, cuts[1:], strict=False):
            if start < end:
                first = int(ends[start - 1]) if start else 0
                first_after = int(ends[end - 1])
                rows = self._tokens.value_rows(keys[first:first_after], counts[start:end])
                self._store(raws[start:end], missing[start:end], rows)
        return bad

    def _encodable(self, text: str) -> bool:
        """Whether ``text`` encodes (so do texts joined, when each of them does)."""
        if text.isascii():
            return True
        try:
            text.encode(self._encoding)
        except UnicodeEncodeError:
            return False
        return True

    def _store(
        self, raws: list[str], missing: npt.NDArray[np.bool_], rows: npt.NDArray[np.uint8]
    ) -> None:
        first = self._rows.size
        self._rows.append(rows)
        self._missing.append(missing)
        self._values.update(zip(raws, range(first, first + len(raws)), strict=True))


def _drop_rejected(
    bad: dict[str, str], raws: list[str], rules: Sequence[str | None], *columns: list[Any]
) -> list[list[Any]]:
    """``columns`` (parallel to ``raws``) without the values that break a rule, which go to
    ``bad`` with their rule."""
    if not any(rules):
        return list(columns)
    bad.update((raw, rule) for raw, rule in zip(raws, rules, strict=True) if rule is not None)
    keep = [rule is None for rule in rules]
    return [list(compress(column, keep)) for column in columns]


class _NgramCodes:
    """The n-grams of many texts at once, as integers rather than strings.

    Making a Python string for every n-gram of every new value, and hashing it into dicts,
    is most of what tokenising costs. Here the texts' code points go into one numpy array,
    and each n-gram becomes the integer ``sum(c_k * BASE**(n - 1 - k))`` (plus
    ``position * BASE**n`` when positional), with ``BASE`` one more than the largest code
    point: numpy then finds the distinct ones, and a string (:meth:`text`) is made only for
    a distinct n-gram not seen before, to hash it. n-grams come in the order, and with the
    padding, of the string tokenizer (:func:`_ngram_tokenizer`).
    """

    BASE = 0x110000

    def __init__(self, n: int, positional: bool) -> None:
        self._n = n
        self._positional = positional
        self._gram_range = self.BASE**n
        #: Longest text whose positional codes fit in 63 bits (position * n-gram range).
        self._longest = (2**63 - 1) // self._gram_range - n

    @classmethod
    def usable(cls, n: int, positional: bool) -> bool:
        """Whether n-grams (and positions) fit in 63 bits: n <= 2, or 3 without positions."""
        return n <= 2 or (n == 3 and not positional)

    def fits(self, texts: list[str]) -> bool:
        """Whether every text is short enough for its codes to fit in 63 bits."""
        return not self._positional or max(map(len, texts), default=0) <= self._longest

    def codes(self, texts: list[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Token counts per text, and all the texts' n-gram codes (flat, in order)."""
        n = self._n
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        counts = np.where(lengths > 0, lengths + n - 1, 0)
        filled = lengths[lengths > 0]
        if not filled.size:
            return counts, np.zeros(0, dtype=np.int64)
        pad = " " * (n - 1)
        joined = pad + (pad + pad).join(filter(None, texts)) + pad
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        windows = filled + n - 1
        window_starts = np.cumsum(windows) - windows
        text_starts = np.cumsum(filled + 2 * (n - 1)) - (filled + 2 * (n - 1))
        owner = np.repeat(np.arange(len(filled)), windows)
        place = np.arange(int(windows.sum()), dtype=np.int64) - window_starts[owner]
        start = text_starts[owner] + place
        codes = points[start]
        for k in range(1, n):
            codes = codes * self.BASE + points[start + k]
        if self._positional:
            codes += (place + 1) * self._gram_range
        return counts, codes

    def text(self, code: int) -> str:
        """The token a code stands for, as the string tokenizer writes it."""
        position, gram = divmod(code, self._gram_range)
        chars = []
        for _ in range(self._n):
            gram, point = divmod(gram, self.BASE)
            chars.append(chr(point))
        token = "".join(reversed(chars))
        return f"{position} {token}" if self._positional else token


class _Tokens:
    """A feature's tokens: keyed hashes done once per token, packed rows per (token, bits).

    The positions of a token for k bits are the first k of one sequence (``doubleHash``:
    ``first + i * step``; ``blakeHash``: the digest words for salts 0, 1, ...), so what is
    cached per token is that sequence's seed; positions for any number of bits then cost no
    cryptography (``bitsPerFeature`` gives a token different numbers of bits in values of
    different lengths). A value's row is the OR of its tokens' rows (one per token and
    number of bits, cached); for filters too wide for a row per token
    (``_TOKEN_ROW_MAX_BYTES``) it is packed from its tokens' positions instead. All of it
    is computed with numpy for a group of values at once; tokens are known by integer ids
    so that no tuple is built or hashed per token.
    """

    def __init__(
        self,
        *,
        hashing: str,
        prevent_singularity: bool,
        keys: tuple[bytes, bytes],
        hash_bits: int,
        encoding: str,
        strategy: _Strategy,
        decode: Callable[[int], str] | None,
    ) -> None:
        self.hash_bits = hash_bits
        self._decode = decode
        self._blake = hashing == "blakeHash"
        self._prevent_singularity = prevent_singularity
        self._keys = keys
        self._encoding = encoding
        self._strategy = strategy
        self._stride = strategy.most + 1
        self._ids: dict[str | int, int] = {}
        self._seeds = _Growing((2,), np.int64)
        self._texts: list[str] = []
        self._words: list[npt.NDArray[np.uint16]] = []
        row_bytes = hash_bits // 8
        self._rows: _Growing | None = None
        self._row_of: dict[int, int] = {}
        self._capacity = _TOKEN_CACHE_LIMIT
        if row_bytes <= _TOKEN_ROW_MAX_BYTES:
            self._rows = _Growing((row_bytes,), np.uint8)
            self._capacity = min(_TOKEN_CACHE_LIMIT, _TOKEN_ROWS_BYTES // row_bytes)
        #: Tokens (occurrences) handed over at once, at most: they fit in the cache.
        self.group = min(_GROUP_TOKENS, self._capacity // 2)

    def value_rows(self, tokens: TokenKeys, counts: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """Packed rows of values: value ``i`` has the next ``counts[i]`` of ``tokens``
        (strings, or n-gram codes when the feature has a ``decode``)."""
        if (
            len(self._ids) + len(tokens) > self._capacity
            or len(self._row_of) + len(tokens) > self._capacity
        ):
            self._ids.clear()
            self._seeds.clear()
            self._texts.clear()
            self._words.clear()
            self._row_of.clear()
            if self._rows is not None:
                self._rows.clear()
        ids = self._token_ids(tokens)
        bits = self._strategy.bits(counts)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        if self._rows is None:
            ends, positions = self._positions(ids, bits)
            return pack_positions(ends[offsets], positions, self.hash_bits)
        combos, inverse = np.unique(ids * self._stride + bits, return_inverse=True)
        rows = self._combo_rows(combos)  # may grow the table: before reading it
        return or_segments(self._rows.array, rows[inverse.reshape(-1)], offsets)

    def _token_ids(self, tokens: TokenKeys) -> npt.NDArray[np.int64]:
        """Ids of ``tokens``, registering (and hashing, for doubleHash) new ones.

        A feature's tokens come as codes, or as strings where codes do not fit (very long
        texts); a token known both ways just has two ids.
        """
        ids = self._ids
        if isinstance(tokens, np.ndarray):
            if self._decode is None:
                raise TypeError("n-gram codes given to a feature without a decoder")
            codes, inverse = np.unique(tokens, return_inverse=True)
            distinct = codes.tolist()
            new_codes = [code for code in distinct if code not in ids]
            self._register(new_codes, list(map(self._decode, new_codes)))
            return _lookup(ids, distinct).astype(np.int64)[inverse.reshape(-1)]
        new_tokens = list(set(tokens).difference(ids))
        self._register(new_tokens, new_tokens)
        return _lookup(ids, tokens).astype(np.int64)

    def _register(self, new: Sequence[str | int], texts: list[str]) -> None:
        """Give ids to ``new`` keys, the tokens ``texts``; hash them (doubleHash: the seed)."""
        if not new:
            return
        ids = self._ids
        first = len(ids)
        ids.update(zip(new, range(first, first + len(new)), strict=True))
        if self._blake:
            self._texts += texts
            self._words += [np.zeros(0, dtype=np.uint16)] * len(texts)
        else:
            seeds = [self._double_seed(text) for text in texts]
            self._seeds.append(np.array(seeds, dtype=np.int64))

    def _combo_rows(self, combos: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        """Table rows of (token id * stride + bits) combinations, packing the new ones."""
        assert self._rows is not None  # noqa: S101 - only called when tokens have rows
        known = self._row_of
        rows = np.array([known.get(c, -1) for c in combos.tolist()], dtype=np.intp)
        new = rows < 0
        if new.any():
            fresh = combos[new]
            ends, positions = self._positions(fresh // self._stride, fresh % self._stride)
            first = self._rows.size
            self._rows.append(pack_positions(ends, positions, self.hash_bits))
            rows[new] = np.arange(first, first + len(fresh))
            known.update(zip(fresh.tolist(), range(first, first + len(fresh)), strict=True))
        return rows

    def _positions(
        self, ids: npt.NDArray[np.int64], bits: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Positions of ``bits[i]`` bits for token ``ids[i]``, in CSR form: offsets, flat."""
        ends = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(bits, out=ends[1:])
        if self._blake:
            words = [
                self._blake_words(i, b)[:b]
                for i, b in zip(ids.tolist(), bits.tolist(), strict=True)
            ]
            flat = np.concatenate([np.zeros(0, dtype=np.uint16), *words]).astype(np.int64)
            return ends, flat % self.hash_bits
        seeds = self._seeds.array[ids]
        owner = np.repeat(np.arange(len(ids)), bits)
        step = np.arange(int(ends[-1]), dtype=np.int64) - ends[owner]
        return ends, (seeds[owner, 0] + step * seeds[owner, 1]) % self.hash_bits

    def _blake_words(self, token_id: int, bits: int) -> npt.NDArray[np.uint16]:
        """Digest words of a token (keyed BLAKE2b, salt ``str(j)`` for block j), at least
        ``bits`` of them: blocks are hashed only when a token first needs them.

        The digest is read as little-endian 16-bit words, as clkhash reads it on the
        little-endian machines it runs on.
        """
        words = self._words[token_id]
        if len(words) >= bits:
            return words
        data = self._texts[token_id].encode(self._encoding)
        blocks = [words]
        for block in range(len(words) // 32, (bits + 31) // 32):
            digest = hashlib.blake2b(data, key=self._keys[0], salt=str(block).encode()).digest()
            blocks.append(np.frombuffer(digest, dtype="<u2"))
        words = self._words[token_id] = np.concatenate(blocks)
        return words

    def _double_seed(self, token: str) -> tuple[int, int]:
        """HMAC-SHA1 (first position) and HMAC-MD5 (step), both mod the filter size.

        With ``prevent_singularity`` a step of 0 (all bits on one position) is re-drawn from
        the MD5 HMAC of the token with ``chr(i)`` appended, as clkhash does.
        """
        data = token.encode(self._encoding)
        size = self.hash_bits
        first = int.from_bytes(hmac.digest(self._keys[0], data, "sha1"), "big") % size
        step = int.from_bytes(hmac.digest(self._keys[1], data, "md5"), "big") % size
        counter = 0
        while self._prevent_singularity and step == 0:
            salted = data + chr(counter).encode()
            step = int.from_bytes(hmac.digest(self._keys[1], salted, "md5"), "big") % size
            counter += 1
        return first, step


# ------------------------------------------------------------------- values: checks, formats


def _encodable(encoding: str) -> Validator:
    def check(raw: str) -> str | None:
        try:
            raw.encode(encoding)
        except UnicodeEncodeError:
            return f"cannot be encoded as {encoding}"
        return None

    return check


def _string_validators(fmt: Mapping[str, Any]) -> list[Validator]:
    checks: list[Validator] = []
    pattern = fmt.get("pattern")
    if isinstance(pattern, str):
        compiled = re.compile(pattern)

        def matches(raw: str) -> str | None:
            return None if compiled.fullmatch(raw) else "does not match the schema's pattern"

        return [matches]
    minimum = fmt.get("minLength")
    maximum = fmt.get("maxLength")
    case = fmt.get("case", "mixed")
    if minimum is not None:
        low = int(minimum)

        def long_enough(raw: str) -> str | None:
            return f"is shorter than {low} characters" if len(raw) < low else None

        checks.append(long_enough)
    if maximum is not None:
        high = int(maximum)

        def short_enough(raw: str) -> str | None:
            return f"is longer than {high} characters" if len(raw) > high else None

        checks.append(short_enough)
    if case == "upper":
        checks.append(lambda raw: None if raw.upper() == raw else "is not upper case")
    elif case == "lower":
        checks.append(lambda raw: None if raw.lower() == raw else "is not lower case")
    return checks


def _parse_int(raw: str) -> int | None:
    """Python's ``int(raw, 10)``, as clkhash uses (it allows spaces, a sign and ``_``)."""
    try:
        return int(raw, 10)
    except ValueError:
        return None


def _integer_validators(fmt: Mapping[str, Any]) -> list[Validator]:
    minimum = fmt.get("minimum")
    maximum = fmt.get("maximum")

    def check(raw: str) -> str | None:
        value = _parse_int(raw)
        if value is None:
            return "is not a base-10 integer"
        if minimum is not None and value < minimum:
            return f"is below the minimum {minimum}"
        if maximum is not None and value > maximum:
            return f"is above the maximum {maximum}"
        return None

    return [check]


def _parse_date(raw: str, layout: str) -> datetime | None:
    try:
        return datetime.strptime(raw, layout)
    except ValueError:
        return None


def _date_validators(fmt: Mapping[str, Any]) -> list[Validator]:
    layout = str(fmt["format"])

    def check(raw: str) -> str | None:
        return None if _parse_date(raw, layout) else f"is not a date in the format {layout!r}"

    return [check]


def _enum_validators(fmt: Mapping[str, Any]) -> list[Validator]:
    allowed = frozenset(fmt["values"])
    rule = f"is not one of the {len(allowed)} values the schema allows"
    return [lambda raw: None if raw in allowed else rule]


def _same(raw: str) -> str | None:
    return raw


def _integer_text(raw: str) -> str | None:
    value = _parse_int(raw)
    return None if value is None else str(value)


def _date_formatter(layout: str) -> Formatter:
    def formatter(raw: str) -> str | None:
        parsed = _parse_date(raw, layout)
        return None if parsed is None else parsed.strftime(_DATE_OUTPUT)

    return formatter


def _ngram_tokenizer(n: int, positional: bool) -> Tokenizer:
    """n-grams as strings (:class:`_NgramCodes` makes the same ones as integers, faster)."""
    pad = " " * (n - 1)

    def tokenize(text: str) -> list[str] | None:
        if not text:
            return []
        padded = f"{pad}{text}{pad}"
        count = len(padded) - n + 1
        if positional:
            return [f"{i + 1} {padded[i : i + n]}" for i in range(count)]
        return [padded[i : i + n] for i in range(count)]

    return tokenize


def _exact_tokenizer(text: str) -> list[str] | None:
    return [text] if text else []


def _numeric_tokenizer(interval: int, resolution: int, precision: int) -> Tokenizer:
    """Vatsalan & Christen neighbourhoods on a grid of ``interval``, as clkhash computes them.

    The arithmetic (int first, float only when the text is not an integer, rounding and
    the half-interval comparison) is kept exactly so that tokens agree bit for bit.
    """
    scale = 10**precision

    def tokenize(text: str) -> list[str] | None:
        if not text:
            return []
        whole = _parse_int(text)
        if whole is not None:
            value = whole * scale if precision > 0 else whole
        else:
            try:
                real = float(text)
                value = int(round(real * scale)) if precision > 0 else int(real)
            except (ValueError, OverflowError):
                return None
        value *= 2 * resolution
        residue = value % interval
        if residue != 0:
            value = value - residue if residue < interval / 2 else value + interval - residue
        return [str(value + i * interval) for i in range(-resolution, resolution + 1)]

    return tokenize


def _block_records(hash_bits: int) -> int:
    """Records per block: the block's unfolded filters fit in half a value cache."""
    return max(1, min(_BLOCK_RECORDS, _VALUE_ROWS_BYTES // (hash_bits // 8) // 2))


# ------------------------------------------------------------------------------ the schema


class _Spec:
    """The checked content of one non-ignored feature, before keys are attached."""

    def __init__(self, index: int, identifier: str, document: Mapping[str, Any]) -> None:
        self.index = index
        self.identifier = identifier
        self.document = document


class _SchemaChecker:
    """Checks a clkhash v3 document against the v3 rules and blindlink's extra limits."""

    def __init__(self, document: Any) -> None:
        self.problems = _Problems()
        self.document = document
        self.filter_bits = 0
        self.xor_folds = 0
        self.kdf_hash = "SHA256"
        self.salt: bytes | None = None
        self.info: bytes | None = None
        self.key_size = DEFAULT_KEY_SIZE
        self.feature_count = 0
        self.specs: list[_Spec] = []
        self.id_feature: str | None = None
        self.uses_blake = False

    def check(self) -> None:
        p = self.problems
        document = _object(p, "$", self.document)
        if document is None:
            return
        for key in ("version", "clkConfig", "features"):
            if key not in document:
                p.add("$", f"lacks the required key {key!r}")
        if "version" in document:
            version = document["version"]
            if not _is_number(version) or version != SUPPORTED_VERSION:
                shown = json.dumps(version) if _is_number(version) else json_kind(version)
                p.add(
                    "$.version",
                    f"clkhash schema version {shown} is not supported: blindlink reads "
                    f"version {SUPPORTED_VERSION} (convert older schemas with clkhash's "
                    "schema.convert_to_latest_version)",
                )
                return
        if "clkConfig" in document:
            self._check_config(document["clkConfig"])
        if "features" in document:
            self._check_features(document["features"])
        self._check_limits()

    def _check_config(self, value: object) -> None:
        p = self.problems
        config = _object(p, "$.clkConfig", value)
        if config is None:
            return
        if "l" not in config:
            p.add("$.clkConfig", "lacks the required key 'l'")
        else:
            bits = _int_at_least(p, "$.clkConfig.l", config["l"], 1)
            if bits is not None:
                if bits % 8 or bits > MAX_FILTER_BITS:
                    p.add(
                        "$.clkConfig.l",
                        f"blindlink needs a multiple of 8 up to {MAX_FILTER_BITS} bits "
                        "(encodings are stored as whole bytes)",
                    )
                else:
                    self.filter_bits = bits
        # clkhash 0.18 folds by 'xor_folds' and ignores the 'xorFolds' its v3 schema declares.
        if "xor_folds" in config:
            folds = _int_at_least(p, "$.clkConfig.xor_folds", config["xor_folds"], 0)
            self.xor_folds = folds or 0
        if "xorFolds" in config:
            declared = _int_at_least(p, "$.clkConfig.xorFolds", config["xorFolds"], 0)
            if declared is not None and declared != self.xor_folds:
                p.add(
                    "$.clkConfig.xorFolds",
                    "clkhash ignores 'xorFolds' (it folds by 'xor_folds'), so this schema "
                    "would not fold as it says; write 'xor_folds' with the same value",
                )
        if "kdf" not in config:
            p.add("$.clkConfig", "lacks the required key 'kdf'")
        else:
            self._check_kdf(config["kdf"])

    def _check_kdf(self, value: object) -> None:
        p = self.problems
        kdf = _object(p, "$.clkConfig.kdf", value)
        if kdf is None:
            return
        if kdf.get("type") != "HKDF":
            p.add("$.clkConfig.kdf.type", "must be 'HKDF' (the only clkhash v3 key derivation)")
        hash_name = kdf.get("hash", "SHA256")
        if hash_name not in _KDF_HASHES:
            p.add("$.clkConfig.kdf.hash", "must be 'SHA256' or 'SHA512'")
        else:
            self.kdf_hash = hash_name
        self.salt = _decode_base64(p, "$.clkConfig.kdf.salt", kdf.get("salt"))
        self.info = _decode_base64(p, "$.clkConfig.kdf.info", kdf.get("info"))
        if "keySize" in kdf:
            size = _int_at_least(p, "$.clkConfig.kdf.keySize", kdf["keySize"], 1)
            self.key_size = size or DEFAULT_KEY_SIZE

    def _check_features(self, value: object) -> None:
        p = self.problems
        if not isinstance(value, list):
            p.add("$.features", f"must be an array, not {json_kind(value)}")
            return
        self.feature_count = len(value)
        used: dict[str, int] = {}
        for index, item in enumerate(value):
            where = f"$.features[{index}]"
            feature = _object(p, where, item)
            if feature is None:
                continue
            identifier = feature.get("identifier")
            if not isinstance(identifier, str):
                p.add(f"{where}.identifier", "is required and must be a string")
                identifier = None
            if "description" in feature and not isinstance(feature["description"], str):
                p.add(f"{where}.description", "must be a string")
            ignored = feature.get("ignored", False)
            if not isinstance(ignored, bool):
                p.add(f"{where}.ignored", "must be true or false")
                continue
            if ignored and set(feature) <= _IGNORE_KEYS:
                if identifier is not None and self.id_feature is None:
                    self.id_feature = identifier
                continue
            if "format" not in feature or "hashing" not in feature:
                if ignored:
                    p.add(
                        where,
                        "an ignored feature may only have 'identifier', 'ignored' and "
                        "'description' (or a complete 'format' and 'hashing')",
                    )
                else:
                    for key in ("format", "hashing"):
                        if key not in feature:
                            p.add(where, f"lacks the required key {key!r}")
                continue
            self._check_format(f"{where}.format", feature["format"])
            hash_type = self._check_hashing(f"{where}.hashing", feature["hashing"])
            if ignored:
                if identifier is not None and self.id_feature is None:
                    self.id_feature = identifier
                continue
            if identifier is None:
                continue
            if identifier in used:
                p.add(
                    f"{where}.identifier",
                    f"repeats the identifier of feature {used[identifier]}; blindlink reads "
                    "columns by name, so encoded features need distinct identifiers",
                )
                continue
            used[identifier] = index
            self.specs.append(_Spec(index, identifier, feature))
            self.uses_blake = self.uses_blake or hash_type == "blakeHash"
        if not self.specs and not p.items:
            p.add("$.features", "has no feature to encode (all are ignored)")

    def _check_format(self, where: str, value: object) -> None:
        p = self.problems
        fmt = _object(p, where, value)
        if fmt is None:
            return
        kind = fmt.get("type")
        if kind not in _FORMAT_TYPES:
            p.add(f"{where}.type", f"must be one of {', '.join(_FORMAT_TYPES)}")
            return
        variant = "string-pattern" if kind == "string" and "pattern" in fmt else kind
        _no_other_keys(p, where, fmt, _FORMAT_KEYS[variant])
        if "description" in fmt and not isinstance(fmt["description"], str):
            p.add(f"{where}.description", "must be a string")
        if kind == "string":
            if "encoding" in fmt and fmt["encoding"] not in _STRING_ENCODINGS:
                p.add(f"{where}.encoding", f"must be one of {', '.join(_STRING_ENCODINGS)}")
            if "case" in fmt and fmt["case"] not in _CASES:
                p.add(f"{where}.case", "must be 'upper', 'lower' or 'mixed'")
            if "minLength" in fmt:
                _int_at_least(p, f"{where}.minLength", fmt["minLength"], 0)
            if "maxLength" in fmt:
                _int_at_least(p, f"{where}.maxLength", fmt["maxLength"], 1)
            if "pattern" in fmt:
                pattern = fmt["pattern"]
                if not isinstance(pattern, str):
                    p.add(f"{where}.pattern", "must be a string")
                else:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        p.add(f"{where}.pattern", f"is not a valid regular expression ({exc})")
        elif kind == "integer":
            for key in ("minimum", "maximum"):
                if key in fmt and not _is_int(fmt[key]):
                    p.add(f"{where}.{key}", "must be an integer")
        elif kind == "date":
            if not isinstance(fmt.get("format"), str):
                p.add(f"{where}.format", "is required and must be a strptime format string")
        elif kind == "enum":
            values = fmt.get("values")
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                p.add(f"{where}.values", "is required and must be an array of strings")

    def _check_hashing(self, where: str, value: object) -> str:
        """Check a ``hashing`` object; return its hash type (for the checks on the whole)."""
        p = self.problems
        hashing = _object(p, where, value)
        if hashing is None:
            return ""
        _no_other_keys(p, where, hashing, _HASHING_KEYS)
        for key in ("comparison", "strategy"):
            if key not in hashing:
                p.add(where, f"lacks the required key {key!r}")
        hash_type = "blakeHash"
        if "hash" in hashing:
            hash_doc = _object(p, f"{where}.hash", hashing["hash"])
            if hash_doc is not None:
                hash_type = hash_doc.get("type", "")
                if hash_type not in _HASH_TYPES:
                    p.add(f"{where}.hash.type", "must be 'blakeHash' or 'doubleHash'")
                if "prevent_singularity" in hash_doc:
                    if hash_type != "doubleHash":
                        p.add(
                            f"{where}.hash.prevent_singularity",
                            "applies only to 'doubleHash' (clkhash refuses it here)",
                        )
                    elif not isinstance(hash_doc["prevent_singularity"], bool):
                        p.add(f"{where}.hash.prevent_singularity", "must be true or false")
        if "strategy" in hashing:
            self._check_strategy(f"{where}.strategy", hashing["strategy"])
        if "comparison" in hashing:
            self._check_comparison(f"{where}.comparison", hashing["comparison"])
        if "missingValue" in hashing:
            missing = _object(p, f"{where}.missingValue", hashing["missingValue"])
            if missing is not None:
                if not isinstance(missing.get("sentinel"), str):
                    p.add(f"{where}.missingValue.sentinel", "is required and must be a string")
                if "replaceWith" in missing and not isinstance(missing["replaceWith"], str):
                    p.add(f"{where}.missingValue.replaceWith", "must be a string")
        return str(hash_type)

    def _check_strategy(self, where: str, value: object) -> None:
        p = self.problems
        strategy = _object(p, where, value)
        if strategy is None:
            return
        present = [key for key in _STRATEGY_KEYS if key in strategy]
        if len(present) != 1:
            p.add(where, "must have exactly one of 'bitsPerToken' and 'bitsPerFeature'")
            return
        _no_other_keys(p, where, strategy, frozenset(present))
        _int_at_least(p, f"{where}.{present[0]}", strategy[present[0]], 1)

    def _check_comparison(self, where: str, value: object) -> None:
        p = self.problems
        comparison = _object(p, where, value)
        if comparison is None:
            return
        kind = comparison.get("type")
        if kind not in _COMPARISONS:
            p.add(f"{where}.type", f"must be one of {', '.join(_COMPARISONS)}")
        elif kind == "ngram":
            if "n" not in comparison:
                p.add(where, "lacks the required key 'n'")
            else:
                _int_at_least(p, f"{where}.n", comparison["n"], 1)
            if "positional" in comparison and not isinstance(comparison["positional"], bool):
                p.add(f"{where}.positional", "must be true or false")
        elif kind == "numeric":
            distance: float | None = comparison.get("thresholdDistance")
            if distance is None or not _is_number(distance) or distance <= 0:
                p.add(f"{where}.thresholdDistance", "is required and must be a number above 0")
                distance = None
            if "resolution" not in comparison:
                p.add(where, "lacks the required key 'resolution'")
            else:
                _int_at_least(p, f"{where}.resolution", comparison["resolution"], 1)
            precision = comparison.get("fractional_precision", 0)
            if _int_at_least(p, f"{where}.fractional_precision", precision, 0) is None:
                precision = None
            if distance is not None and precision is not None:
                if _numeric_interval(distance, precision) == 0:
                    p.add(
                        f"{where}.fractional_precision",
                        "is too small to represent thresholdDistance",
                    )

    def _check_limits(self) -> None:
        """Limits that come from the hash functions rather than from the v3 rules."""
        p = self.problems
        if not self.filter_bits:
            return
        hash_bits = self.filter_bits << self.xor_folds
        if hash_bits > MAX_HASH_BITS:
            p.add(
                "$.clkConfig.xor_folds",
                f"makes the unfolded filter larger than {MAX_HASH_BITS} bits",
            )
            return
        if self.uses_blake:
            if hash_bits & (hash_bits - 1):
                p.add(
                    "$.clkConfig.l",
                    "blakeHash needs l * 2**xor_folds to be a power of two (clkhash fails "
                    "on any other length)",
                )
            if self.key_size > _BLAKE_MAX_KEY:
                p.add(
                    "$.clkConfig.kdf.keySize",
                    f"blakeHash keys are at most {_BLAKE_MAX_KEY} bytes",
                )
        digest_size = int(_KDF_HASHES[self.kdf_hash].digest_size)
        if 2 * self.feature_count * self.key_size > 255 * digest_size:
            p.add(
                "$.clkConfig.kdf.keySize",
                f"HKDF-{self.kdf_hash} cannot derive 2 keys of {self.key_size} bytes for each "
                f"of {self.feature_count} features (at most {255 * digest_size} bytes)",
            )


def _numeric_interval(distance: float, precision: int) -> int:
    return int(round(distance * 10**precision))


def _derive_keys(checker: _SchemaChecker, secret: bytes) -> list[tuple[bytes, bytes]]:
    """Two keys per feature, in schema order (ignored features take their share too)."""
    size = checker.key_size
    count = 2 * checker.feature_count
    material = HKDF(
        secret,
        count * size,
        checker.salt,
        _KDF_HASHES[checker.kdf_hash],
        num_keys=1,
        context=checker.info,
    )
    if not isinstance(material, bytes):  # a list only when num_keys > 1
        raise TypeError("HKDF returned several keys")
    keys = [material[i * size : (i + 1) * size] for i in range(count)]
    return [(keys[2 * i], keys[2 * i + 1]) for i in range(checker.feature_count)]


def _compile(spec: _Spec, keys: tuple[bytes, bytes], hash_bits: int, validate: bool) -> _Feature:
    fmt: Mapping[str, Any] = spec.document["format"]
    hashing: Mapping[str, Any] = spec.document["hashing"]
    kind = fmt["type"]
    encoding = str(fmt.get("encoding", "utf-8")) if kind == "string" else "utf-8"
    validators: list[Validator] = [_encodable(encoding)]
    formatter: Formatter = _same
    format_rule = "cannot be formatted"
    if kind == "string":
        validators += _string_validators(fmt)
    elif kind == "integer":
        validators += _integer_validators(fmt)
        formatter = _integer_text
        format_rule = "is not a base-10 integer"
    elif kind == "date":
        validators += _date_validators(fmt)
        formatter = _date_formatter(str(fmt["format"]))
        format_rule = f"is not a date in the format {str(fmt['format'])!r}"
    else:
        validators += _enum_validators(fmt)
    comparison: Mapping[str, Any] = hashing["comparison"]
    tokenizer: Tokenizer
    codes: _NgramCodes | None = None
    if comparison["type"] == "ngram":
        n, positional = int(comparison["n"]), bool(comparison.get("positional"))
        tokenizer = _ngram_tokenizer(n, positional)
        if _NgramCodes.usable(n, positional):
            codes = _NgramCodes(n, positional)
    elif comparison["type"] == "exact":
        tokenizer = _exact_tokenizer
    else:
        precision = int(comparison.get("fractional_precision", 0))
        tokenizer = _numeric_tokenizer(
            _numeric_interval(comparison["thresholdDistance"], precision),
            int(comparison["resolution"]),
            precision,
        )
    strategy_doc: Mapping[str, Any] = hashing["strategy"]
    per_token = strategy_doc.get("bitsPerToken")
    per_feature = strategy_doc.get("bitsPerFeature")
    strategy = _Strategy(
        per_token=None if per_token is None else int(per_token),
        per_feature=None if per_feature is None else int(per_feature),
    )
    hash_doc: Mapping[str, Any] = hashing.get("hash", {"type": "blakeHash"})
    tokens = _Tokens(
        hashing=str(hash_doc["type"]),
        prevent_singularity=bool(hash_doc.get("prevent_singularity", False)),
        keys=keys,
        hash_bits=hash_bits,
        encoding=encoding,
        strategy=strategy,
        decode=None if codes is None else codes.text,
    )
    missing: Mapping[str, Any] | None = hashing.get("missingValue")
    sentinel = None if missing is None else str(missing["sentinel"])
    replacement = None if missing is None else str(missing.get("replaceWith", sentinel))
    return _Feature(
        identifier=spec.identifier,
        validators=validators,
        formatter=formatter,
        format_rule=format_rule,
        tokenizer=tokenizer,
        tokens_cover_text=comparison["type"] != "numeric",
        codes=codes,
        tokens=tokens,
        encoding=encoding,
        sentinel=sentinel,
        replacement=replacement,
        validate=validate,
    )


# ----------------------------------------------------------------------------- the encoder


class ClkhashEncoder:
    """Encodes records under a clkhash v3 schema and a text secret, as clkhash does.

    Duck-types :class:`blindlink.encoding.encoder.Encoder` (``filter_bits``, ``fingerprint``,
    ``key_check``, ``encode``), so the encode pipeline and the ``.blk`` format work unchanged.
    The secret is the clkhash secret: text, hashed as UTF-8 (``bytes`` are used as they are,
    e.g. from :func:`blindlink.io.secret_file.read_secret_file`). It is used here only, to
    derive the feature keys and the key check; the encoder keeps neither the secret nor
    plaintext values beyond its per-value cache.

    ``validate=False`` mirrors clkhash's ``--no-validate``: format rules (length, case,
    pattern, range, enum) are not enforced, but values that cannot be formatted (integers,
    dates) or encoded are still rejected, as clkhash rejects them.
    """

    def __init__(
        self,
        document: dict[str, Any],
        secret_text: str | bytes,
        *,
        validate: bool = True,
        source: str = "schema",
    ) -> None:
        checker = _SchemaChecker(document)
        checker.check()
        if checker.problems.items:
            raise SchemaError(
                f"{source}: invalid clkhash schema: " + "; ".join(checker.problems.items)
            )
        try:
            fingerprint = hashlib.sha256(canonical_json(document)).hexdigest()
        except ValueError:
            raise SchemaError(
                f"{source}: invalid clkhash schema: $: holds NaN or Infinity, which JSON "
                "does not allow"
            ) from None
        secret = secret_text if isinstance(secret_text, bytes) else secret_text.encode("utf-8")
        self.document = document
        self.fingerprint = fingerprint
        self.key_check = key_check_value(secret, fingerprint)
        self.filter_bits = checker.filter_bits
        self.xor_folds = checker.xor_folds
        self.id_feature = checker.id_feature
        self.columns: tuple[str, ...] = tuple(spec.identifier for spec in checker.specs)
        self._hash_bits = checker.filter_bits << checker.xor_folds
        keys = _derive_keys(checker, secret)
        self._features = [
            _compile(spec, keys[spec.index], self._hash_bits, validate) for spec in checker.specs
        ]
        self._records_seen = 0

    def encode(
        self, rows: Iterable[Mapping[str, str]], report: EncodeReport | None = None
    ) -> npt.NDArray[np.uint8]:
        """Packed CLKs, one row per record, in input order (anonlink's byte layout).

        Values are read by feature identifier; an absent or ``None`` value reads as ``""``.
        Records are numbered from 1 across all calls on this encoder, so an error in a
        later chunk names the record's position in the whole input.
        """
        records = rows if isinstance(rows, Sequence) else list(rows)
        columns = {
            feature.identifier: [row.get(feature.identifier) or "" for row in records]
            for feature in self._features
        }
        return self.encode_columns(columns, report, count=len(records))

    def encode_columns(
        self,
        columns: Mapping[str, Sequence[str]],
        report: EncodeReport | None = None,
        *,
        count: int | None = None,
        first_record: int | None = None,
    ) -> npt.NDArray[np.uint8]:
        """:meth:`encode` for records given as columns: ``columns[identifier][r]`` is record
        ``r``'s value (text) of that feature; an absent column reads as ``""`` throughout.

        This is the fast path: records are never turned into dicts. ``count`` is the number
        of records (default: the common length of the columns). ``first_record`` is the number
        of records before these in the whole input, for error messages (default: the records
        this encoder has encoded so far), so that chunks encoded by several encoders (one per
        process) still name records by their position in the whole input.
        """
        lengths = {len(column) for column in columns.values()}
        if count is None:
            count = lengths.pop() if len(lengths) == 1 else 0
        if lengths - {count}:
            raise ValueError("all columns must hold one value per record")
        first = self._records_seen if first_record is None else first_record
        report = report if report is not None else EncodeReport()
        for feature in self._features:
            report.fields.setdefault(feature.identifier, FieldCounts())
        counts = [report.fields[feature.identifier] for feature in self._features]
        values = [columns.get(feature.identifier) or [""] * count for feature in self._features]
        out = np.zeros((count, self.filter_bits // 8), dtype=np.uint8)
        block = _block_records(self._hash_bits)
        for start in range(0, count, block):
            stop = min(count, start + block)
            rows = self._rows(values, start, stop, first)
            for feature, tally, picked in zip(self._features, counts, rows, strict=True):
                tally.missing += feature.missing_count(picked)
            tables = [feature.table for feature in self._features]
            out[start:stop] = xor_fold(or_rows(tables, rows), self.xor_folds)
        report.records += count
        self._records_seen = first + count
        return out

    def _rows(
        self, values: list[Sequence[str]], start: int, stop: int, first: int
    ) -> list[npt.NDArray[np.intp]]:
        """Every feature's table rows for records ``start:stop``.

        A rejected value is reported for the first record holding one (and in it, the first
        such feature), as a row-by-row encoder would: every feature is looked at first.
        """
        rows: list[npt.NDArray[np.intp]] = []
        rejected: tuple[int, int, str] | None = None
        for order, (feature, column) in enumerate(zip(self._features, values, strict=True)):
            try:
                rows.append(feature.rows_of(column[start:stop]))
            except _BadRecord as exc:
                found = (exc.position, order, exc.rule)
                rejected = found if rejected is None else min(rejected, found)
        if rejected is not None:
            position, order, rule = rejected
            raise InputError(
                f"record {first + start + position + 1}, column "
                f"{self._features[order].identifier!r}: the value {rule}, which the clkhash "
                "schema does not allow"
            ) from None
        return rows
