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
import struct
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from Crypto.Hash import SHA256, SHA512
from Crypto.Protocol.KDF import HKDF

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
#: Bit positions cached per feature (as 4-byte ints) before its value cache is emptied:
#: bounds memory on huge files, where most addresses are unique and barely worth caching.
_CACHED_POSITIONS_LIMIT = 1 << 22
#: Cached (token, bits) results per feature before that cache is emptied.
_TOKEN_CACHE_LIMIT = 1 << 16
#: Unfolded filter bits held at once while packing (64 MiB of booleans).
_DENSE_BITS = 1 << 26

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
#: 32 little-endian unsigned 16-bit words: how a 64-byte BLAKE2b digest becomes indices.
_BLAKE_WORDS = struct.Struct("<32H")
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


class _BadValue(Exception):
    """A record value that clkhash would reject; ``rule`` never contains the value."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


Validator = Callable[[str], str | None]
Formatter = Callable[[str], str | None]
Tokenizer = Callable[[str], list[str] | None]
Strategy = Callable[[int], list[int]]


class _Feature:
    """One non-ignored feature, compiled: raw value -> bit positions in the unfolded filter."""

    def __init__(
        self,
        *,
        identifier: str,
        validators: list[Validator],
        formatter: Formatter,
        format_rule: str,
        tokenizer: Tokenizer,
        strategy: Strategy,
        encoding: str,
        sentinel: str | None,
        replacement: str | None,
        hashing: str,
        prevent_singularity: bool,
        keys: tuple[bytes, bytes],
        hash_bits: int,
        validate: bool,
    ) -> None:
        self.identifier = identifier
        self._validators = validators if validate else []
        self._format = formatter
        self._format_rule = format_rule
        self._tokenize = tokenizer
        self._strategy = strategy
        self._encoding = encoding
        self._sentinel = sentinel
        self._replacement = replacement
        self._hash_bits = hash_bits
        self._keys = keys
        self._indices: Callable[[bytes, int], tuple[int, ...]]
        if hashing == "blakeHash":
            self._indices = self._blake_indices
        elif prevent_singularity:
            self._indices = self._double_indices_non_singular
        else:
            self._indices = self._double_indices
        self._values: dict[str, tuple[array[int], bool]] = {}
        self._cached_positions = 0
        self._tokens: dict[tuple[str, int], tuple[int, ...]] = {}

    def positions(self, raw: str) -> tuple[array[int], bool]:
        """Bit positions (unfolded, as int32) for a raw value, and whether it is missing.

        Raises :class:`_BadValue` for a value clkhash would reject.
        """
        hit = self._values.get(raw)
        if hit is not None:
            return hit
        result = self._compute(raw)
        self._cached_positions += len(result[0]) + 1
        if self._cached_positions > _CACHED_POSITIONS_LIMIT:
            self._values.clear()
            self._cached_positions = len(result[0]) + 1
        self._values[raw] = result
        return result

    def _compute(self, raw: str) -> tuple[array[int], bool]:
        is_sentinel = self._sentinel is not None and raw == self._sentinel
        if is_sentinel:
            text: str | None = self._replacement
        else:
            for check in self._validators:
                rule = check(raw)
                if rule is not None:
                    raise _BadValue(rule)
            text = self._format(raw)
            if text is None:
                raise _BadValue(self._format_rule)
        tokens = self._tokenize(text or "")
        if tokens is None:
            raise _BadValue("is not a number (the schema compares this feature numerically)")
        found: array[int] = array("i")
        if not tokens:
            return found, True
        for token, bits in zip(tokens, self._strategy(len(tokens)), strict=True):
            if bits > 0:
                found.extend(self._token_indices(token, bits))
        return found, is_sentinel

    def _token_indices(self, token: str, bits: int) -> tuple[int, ...]:
        key = (token, bits)
        hit = self._tokens.get(key)
        if hit is not None:
            return hit
        try:
            data = token.encode(self._encoding)
        except UnicodeEncodeError:
            raise _BadValue(f"cannot be encoded as {self._encoding}") from None
        result = self._indices(data, bits)
        if len(self._tokens) >= _TOKEN_CACHE_LIMIT:
            self._tokens.clear()
        self._tokens[key] = result
        return result

    def _blake_indices(self, data: bytes, bits: int) -> tuple[int, ...]:
        words: list[int] = []
        for block in range((bits + 31) // 32):
            digest = hashlib.blake2b(data, key=self._keys[0], salt=str(block).encode()).digest()
            words.extend(_BLAKE_WORDS.unpack(digest))
        size = self._hash_bits
        return tuple(word % size for word in words[:bits])

    def _double_indices(self, data: bytes, bits: int) -> tuple[int, ...]:
        size = self._hash_bits
        first = int.from_bytes(hmac.digest(self._keys[0], data, "sha1"), "big") % size
        step = int.from_bytes(hmac.digest(self._keys[1], data, "md5"), "big") % size
        return tuple((first + i * step) % size for i in range(bits))

    def _double_indices_non_singular(self, data: bytes, bits: int) -> tuple[int, ...]:
        size = self._hash_bits
        first = int.from_bytes(hmac.digest(self._keys[0], data, "sha1"), "big") % size
        step = int.from_bytes(hmac.digest(self._keys[1], data, "md5"), "big") % size
        counter = 0
        while step == 0:
            salted = data + chr(counter).encode()
            step = int.from_bytes(hmac.digest(self._keys[1], salted, "md5"), "big") % size
            counter += 1
        return tuple((first + i * step) % size for i in range(bits))


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


def _bits_per_token(k: int) -> Strategy:
    return lambda count: [k] * count


def _bits_per_feature(total: int) -> Strategy:
    def spread(count: int) -> list[int]:
        share, extra = divmod(total, count)
        return [share + 1] * extra + [share] * (count - extra)

    return spread


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
    if comparison["type"] == "ngram":
        tokenizer = _ngram_tokenizer(int(comparison["n"]), bool(comparison.get("positional")))
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
    strategy = (
        _bits_per_token(int(strategy_doc["bitsPerToken"]))
        if "bitsPerToken" in strategy_doc
        else _bits_per_feature(int(strategy_doc["bitsPerFeature"]))
    )
    hash_doc: Mapping[str, Any] = hashing.get("hash", {"type": "blakeHash"})
    missing: Mapping[str, Any] | None = hashing.get("missingValue")
    sentinel = None if missing is None else str(missing["sentinel"])
    replacement = None if missing is None else str(missing.get("replaceWith", sentinel))
    return _Feature(
        identifier=spec.identifier,
        validators=validators,
        formatter=formatter,
        format_rule=format_rule,
        tokenizer=tokenizer,
        strategy=strategy,
        encoding=encoding,
        sentinel=sentinel,
        replacement=replacement,
        hashing=str(hash_doc["type"]),
        prevent_singularity=bool(hash_doc.get("prevent_singularity", False)),
        keys=keys,
        hash_bits=hash_bits,
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
        report = report if report is not None else EncodeReport()
        for feature in self._features:
            report.fields.setdefault(feature.identifier, FieldCounts())
        counts = [report.fields[feature.identifier] for feature in self._features]
        lengths: list[int] = []
        flat: array[int] = array("i")
        for row in rows:
            self._records_seen += 1
            start = len(flat)
            for feature, count in zip(self._features, counts, strict=True):
                raw = row.get(feature.identifier) or ""
                try:
                    found, missing = feature.positions(raw)
                except _BadValue as exc:
                    raise InputError(
                        f"record {self._records_seen}, column {feature.identifier!r}: the "
                        f"value {exc.rule}, which the clkhash schema does not allow"
                    ) from None
                if missing:
                    count.missing += 1
                flat.extend(found)
            lengths.append(len(flat) - start)
        report.records += len(lengths)
        return self._pack(lengths, flat)

    def _pack(self, lengths: Sequence[int], flat: array[int]) -> npt.NDArray[np.uint8]:
        """Set the bits, XOR-fold to ``filter_bits`` and pack MSB-first.

        Works on blocks of records so that the unfolded bit matrix stays within
        ``_DENSE_BITS`` booleans, however many folds the schema asks for.
        """
        records = len(lengths)
        out = np.zeros((records, self.filter_bits // 8), dtype=np.uint8)
        if not flat:
            return out
        positions = np.frombuffer(flat, dtype=np.intc).astype(np.int64)
        ends = np.cumsum(np.asarray(lengths, dtype=np.int64))
        block = max(1, _DENSE_BITS // self._hash_bits)
        for first in range(0, records, block):
            last = min(records, first + block)
            lo = int(ends[first - 1]) if first else 0
            hi = int(ends[last - 1])
            rows = np.repeat(
                np.arange(last - first, dtype=np.int64), np.asarray(lengths[first:last])
            )
            dense = np.zeros((last - first, self._hash_bits), dtype=np.bool_)
            dense[rows, positions[lo:hi]] = True
            for _ in range(self.xor_folds):
                half = dense.shape[1] // 2
                dense = dense[:, :half] ^ dense[:, half:]
            out[first:last] = np.packbits(dense, axis=1)
        return out
