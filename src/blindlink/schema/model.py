"""The linkage schema: a frozen description of what to encode and how.

A schema is described first and compiled later: this module only validates and stores. The
agency-side encoder compiles a ``LinkageSchema`` into hashing work; the coordinator only ever
compares schema fingerprints.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from blindlink.errors import SchemaError

FIELD_TYPES = ("person_name", "date", "categorical", "numeric", "free_text", "identifier")
#: Which feature kinds make sense for which field type (the meaning check after JSON Schema).
FEATURES_BY_FIELD_TYPE: dict[str, frozenset[str]] = {
    "person_name": frozenset({"ngrams", "skeleton_ngrams", "exact", "phonetic"}),
    "date": frozenset({"year", "month_day", "month_year"}),
    "categorical": frozenset({"exact"}),
    "numeric": frozenset({"numeric", "exact"}),
    "free_text": frozenset({"ngrams", "exact", "phonetic"}),
    "identifier": frozenset({"exact", "ngrams"}),
}
#: Feature options and the kinds they mean something for; an option on another kind is a
#: mistake worth reporting (it would silently do nothing).
OPTIONS_BY_FEATURE_KIND: dict[str, frozenset[str]] = {
    "n": frozenset({"ngrams", "skeleton_ngrams"}),
    "padding": frozenset({"ngrams", "skeleton_ngrams"}),
    "positional": frozenset({"ngrams"}),
    "algorithm": frozenset({"phonetic"}),
    "tolerance": frozenset({"year", "numeric"}),
    "resolution": frozenset({"numeric"}),
    "unknown_month_days": frozenset({"month_day", "month_year"}),
}
#: Options each hardening step needs; no other options are allowed on it.
OPTIONS_BY_HARDENING: dict[str, frozenset[str]] = {
    "balancing": frozenset(),
    "xor_folding": frozenset(),
    "blip": frozenset({"epsilon"}),
    "diffusion": frozenset({"taps", "output_bits"}),
}


@dataclass(frozen=True)
class FeatureSpec:
    """One kind of token a field emits, and how many bits each token sets."""

    kind: str
    hashes: int
    n: int = 2
    padding: bool = True
    positional: bool = False
    tolerance: float = 0
    resolution: int = 4
    unknown_month_days: frozenset[str] = frozenset()
    algorithm: str = "metaphone"


@dataclass(frozen=True)
class FieldSpec:
    """One CSV column and the features extracted from it.

    ``bits`` and ``sample_bits`` are used by the field-level encodings only (``field_bloom``,
    ``rbf``); ``missing_values`` are placeholders compared after normalisation; ``codes`` maps
    spellings of a categorical value to its code, as (spelling, code) pairs.
    """

    name: str
    column: str
    type: str
    key_group: str
    features: tuple[FeatureSpec, ...]
    missing_values: frozenset[str] = frozenset()
    reject_missing: bool = False
    codes: tuple[tuple[str, str], ...] = ()
    bits: int = 0
    sample_bits: int = 0


@dataclass(frozen=True)
class HardeningStep:
    """One transformation applied to every filter after its bits are set."""

    kind: str
    epsilon: float = 0.0
    taps: int = 0
    output_bits: int = 0

    def bits_after(self, bits: int) -> int:
        """Filter length after this step, given the length before it."""
        if self.kind == "balancing":
            return 2 * bits
        if self.kind == "xor_folding":
            return bits // 2
        if self.kind == "diffusion":
            return self.output_bits
        return bits


#: Kinds of aggregate attribute, and the options each needs (besides name, column, kind).
ATTRIBUTE_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required options, allowed options)
    "categorical": (
        frozenset({"values"}),
        frozenset({"values", "codes", "missing", "optional"}),
    ),
    "age_band": (
        frozenset({"bands"}),
        frozenset({"bands", "reference_date", "missing", "optional"}),
    ),
    "year": (
        frozenset({"first_year", "last_year"}),
        frozenset({"first_year", "last_year", "missing", "optional"}),
    ),
}
#: A year attribute sends at most this many distinct years.
MAX_ATTRIBUTE_YEARS = 201


@dataclass(frozen=True)
class AggregateAttribute:
    """A case attribute sent in the clear, coarsened at the agency, for counting only.

    ``categories`` are the values it may take once coarsened (the codes, the age-band labels
    or the years); anything else is sent as unknown. ``reference_date`` (``YYYY-MM-DD``) is
    the day ages are counted to, ``None`` for the day of encoding.
    """

    name: str
    column: str
    kind: str
    optional: bool = False
    values: tuple[str, ...] = ()
    codes: tuple[tuple[str, str], ...] = ()
    missing_values: frozenset[str] = frozenset()
    bands: tuple[int, ...] = ()
    reference_date: str | None = None
    first_year: int = 0
    last_year: int = 0

    @property
    def categories(self) -> tuple[str, ...]:
        """The coarse values this attribute may take, in their natural order."""
        if self.kind == "age_band":
            return band_labels(self.bands)
        if self.kind == "year":
            return tuple(str(year) for year in range(self.first_year, self.last_year + 1))
        return self.values


#: Blocking-key features and the field types each applies to.
BLOCKING_FEATURES: dict[str, frozenset[str]] = {
    "phonetic": frozenset({"person_name", "free_text"}),
    "skeleton": frozenset({"person_name", "free_text"}),
    "initial": frozenset({"person_name", "free_text"}),
    "year": frozenset({"date"}),
    "month_day": frozenset({"date"}),
    "exact": frozenset({"categorical", "identifier"}),
}
#: Blocking-key part options and the features they mean something for.
BLOCKING_OPTIONS: dict[str, frozenset[str]] = {
    "algorithm": frozenset({"phonetic"}),
    "length": frozenset({"skeleton"}),
    "words": frozenset({"phonetic", "skeleton", "initial"}),
}


@dataclass(frozen=True)
class BlockingKeyPart:
    """One feature of one or more fields, one of the parts a blocking key combines.

    ``fields`` are field names (several only for words pooled from name fields); ``words``
    is ``each`` (a value per word) or ``pairs`` (a value per unordered pair of words).
    """

    fields: tuple[str, ...]
    feature: str
    algorithm: str = ""
    length: int = 3
    words: str = "each"


@dataclass(frozen=True)
class BlockingKey:
    """A keyed blocking key: records sharing one of its values are compared (``link
    --blocking keys``). Computed and keyed at the agency; the coordinator sees equality only."""

    name: str
    parts: tuple[BlockingKeyPart, ...]


def band_labels(bands: tuple[int, ...]) -> tuple[str, ...]:
    """Labels of age bands given their lowest ages: (0, 12, 18) -> 0-11, 12-17, 18+."""
    labels = [f"{low}-{high - 1}" for low, high in zip(bands, bands[1:], strict=False)]
    return (*labels, f"{bands[-1]}+")


@dataclass(frozen=True)
class LinkageSchema:
    """A validated linkage schema; ``document`` is the exact JSON it came from.

    ``bloom_bits`` is the length of the filter tokens are hashed into; ``filter_bits`` the
    length of the encoded filters after hardening (what an encoded file holds).
    """

    name: str
    id_column: str
    encoding_type: str
    bloom_bits: int
    hashing: str
    fields: tuple[FieldSpec, ...]
    document: dict[str, Any]
    salt_column: str | None = None
    hardening: tuple[HardeningStep, ...] = ()
    aggregate_attributes: tuple[AggregateAttribute, ...] = ()
    blocking_keys: tuple[BlockingKey, ...] = ()

    @property
    def filter_bits(self) -> int:
        """Bits per encoded filter, after every hardening step."""
        bits = self.bloom_bits
        for step in self.hardening:
            bits = step.bits_after(bits)
        return bits

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the schema document.

        Canonical: sorted keys, no insignificant white space, UTF-8. Two agencies whose
        schemas differ in any way -- even a description -- get different fingerprints,
        and the coordinator refuses to link their files.
        """
        return hashlib.sha256(canonical_json(self.document)).hexdigest()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every CSV column the schema reads, id column first."""
        seen = [self.id_column]
        for column in [spec.column for spec in self.fields] + [self.salt_column or ""]:
            if column and column not in seen:
                seen.append(column)
        return tuple(seen)

    @property
    def attribute_columns(self) -> tuple[str, ...]:
        """CSV columns the aggregate attributes need (optional ones left out), in order."""
        seen: list[str] = []
        for attribute in self.aggregate_attributes:
            if not attribute.optional and attribute.column not in seen:
                seen.append(attribute.column)
        return tuple(seen)


def canonical_json(document: Any) -> bytes:
    """Serialise ``document`` the one way every implementation must agree on."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@cache
def _json_schema() -> dict[str, Any]:
    text = (
        resources.files("blindlink.schema")
        .joinpath("linkage-schema.schema.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _location(path: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return "$" + parts


def _structure_errors(document: Any) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_json_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{_location(e.absolute_path)}: {e.message}" for e in errors]


def _feature_errors(where: str, field_type: str, features: list[dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    allowed = FEATURES_BY_FIELD_TYPE[field_type]
    kinds: set[str] = set()
    for j, feature in enumerate(features):
        at = f"{where}.features[{j}]"
        kind = feature["kind"]
        if kind not in allowed:
            errors.append(
                f"{at}.kind: {kind!r} does not apply to a {field_type} field "
                f"(use one of {sorted(allowed)})"
            )
        if kind in kinds:
            errors.append(f"{at}.kind: {kind!r} appears twice")
        kinds.add(kind)
        for option, kinds_with_option in OPTIONS_BY_FEATURE_KIND.items():
            if option in feature and kind not in kinds_with_option:
                errors.append(f"{at}.{option}: does not apply to a {kind!r} feature")
        if kind == "phonetic" and "algorithm" not in feature:
            errors.append(f"{at}: a phonetic feature needs an 'algorithm'")
        if kind == "year" and not float(feature.get("tolerance", 0)).is_integer():
            errors.append(f"{at}.tolerance: a year tolerance is a whole number of years")
        if kind == "numeric" and not feature.get("tolerance"):
            errors.append(f"{at}.tolerance: a numeric feature needs a tolerance above 0")
    return errors


def _code_errors(where: str, field: dict[str, Any]) -> list[str]:
    """``codes`` only on categorical fields, and no spelling standing for two codes."""
    codes: dict[str, list[str]] = field.get("codes", {})
    if codes and field["type"] != "categorical":
        return [f"{where}.codes: only a categorical field has codes"]
    seen: dict[str, str] = {}
    errors: list[str] = []
    for code, spellings in sorted(codes.items()):
        for spelling in spellings:
            key = spelling.strip().upper()
            if key in seen:
                errors.append(
                    f"{where}.codes.{code}: {spelling!r} already stands for {seen[key]!r}"
                )
            seen[key] = code
    return errors


def _layout_errors(document: dict[str, Any]) -> list[str]:
    """Filter lengths must fit the encoding type and add up to ``filter_bits``.

    Field-level layouts have one filter per key group: fields sharing a key group must agree
    on its lengths, which count once.
    """
    encoding = document["encoding"]
    kind = encoding["type"]
    needed = {"clk": (), "field_bloom": ("bits",), "rbf": ("bits", "sample_bits")}[kind]
    errors: list[str] = []
    groups: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, field in enumerate(document["fields"]):
        for option in ("bits", "sample_bits"):
            if option in field and option not in needed:
                errors.append(f"$.fields[{i}].{option}: not used by a {kind!r} encoding")
            if option not in field and option in needed:
                errors.append(f"$.fields[{i}]: a {kind!r} encoding needs '{option}'")
        group = field.get("key_group", field["name"])
        if group not in groups:
            groups[group] = (i, field)
            continue
        first, other = groups[group]
        for option in needed:
            if option in field and option in other and field[option] != other[option]:
                errors.append(
                    f"$.fields[{i}].{option}: differs from $.fields[{first}] of the same "
                    f"key group {group!r}, whose filter it shares"
                )
    if errors or kind == "clk":
        return errors
    summed = "bits" if kind == "field_bloom" else "sample_bits"
    total = sum(field[summed] for _, field in groups.values())
    if total != encoding["filter_bits"]:
        errors.append(
            f"$.encoding.filter_bits: is {encoding['filter_bits']} but the key groups' "
            f"'{summed}' add up to {total}"
        )
    return errors


def _hardening_errors(document: dict[str, Any]) -> list[str]:
    encoding = document["encoding"]
    errors: list[str] = []
    bits = encoding["filter_bits"]
    for i, step in enumerate(encoding.get("hardening", [])):
        at = f"$.encoding.hardening[{i}]"
        needed = OPTIONS_BY_HARDENING[step["kind"]]
        for option in sorted(set(step) - {"kind"} - needed):
            errors.append(f"{at}.{option}: does not apply to {step['kind']!r}")
        for option in sorted(needed - set(step)):
            errors.append(f"{at}: {step['kind']!r} needs '{option}'")
        if step["kind"] == "xor_folding" and (bits // 2 < 64 or bits % 16):
            errors.append(f"{at}: cannot fold {bits} bits into halves of whole bytes (>= 64 bits)")
        if step["kind"] == "diffusion" and step.get("taps", 0) > bits:
            errors.append(f"{at}.taps: more taps than the {bits} bits the step receives")
        bits = HardeningStep(step["kind"], output_bits=step.get("output_bits", 0)).bits_after(bits)
        if bits > 65536:
            errors.append(f"{at}: the filter would grow to {bits} bits (at most 65536)")
    return errors


def _attribute_errors(document: dict[str, Any]) -> list[str]:
    """Each aggregate attribute has the options of its kind, and only those."""
    errors: list[str] = []
    names: set[str] = set()
    for i, attribute in enumerate(document.get("aggregate_attributes", [])):
        where = f"$.aggregate_attributes[{i}]"
        kind = attribute["kind"]
        if attribute["name"] in names:
            errors.append(f"{where}.name: attribute name {attribute['name']!r} is used twice")
        names.add(attribute["name"])
        if attribute["column"] == document["id_column"]:
            errors.append(f"{where}.column: the id column must not be sent")
        required, allowed = ATTRIBUTE_KINDS[kind]
        for option in sorted(set(attribute) - {"name", "column", "kind"} - allowed):
            errors.append(f"{where}.{option}: does not apply to a {kind!r} attribute")
        for option in sorted(required - set(attribute)):
            errors.append(f"{where}: a {kind!r} attribute needs {option!r}")
        if kind == "categorical":
            errors += _code_errors(where, {"type": "categorical", **attribute})
            values = set(attribute.get("values", ()))
            for code in sorted(attribute.get("codes", {})):
                if normalise_code_text(code) not in values:
                    errors.append(f"{where}.codes.{code}: is not one of the attribute's 'values'")
        if kind == "age_band" and "bands" in attribute:
            bands = attribute["bands"]
            if bands[0] != 0 or any(b <= a for a, b in zip(bands, bands[1:], strict=False)):
                errors.append(f"{where}.bands: must start at 0 and rise strictly")
        if kind == "age_band" and "reference_date" in attribute:
            try:
                date.fromisoformat(attribute["reference_date"])
            except ValueError:
                errors.append(f"{where}.reference_date: not a calendar date")
        if kind == "year" and {"first_year", "last_year"} <= set(attribute):
            span = attribute["last_year"] - attribute["first_year"] + 1
            if not 1 <= span <= MAX_ATTRIBUTE_YEARS:
                errors.append(
                    f"{where}.last_year: must be from 'first_year' to {MAX_ATTRIBUTE_YEARS - 1} "
                    "years after it"
                )
    return errors


def _blocking_key_errors(document: dict[str, Any]) -> list[str]:
    """Each blocking key names fields that exist, with features that fit their types."""
    errors: list[str] = []
    types = {field["name"]: field["type"] for field in document["fields"]}
    names: set[str] = set()
    for i, key in enumerate(document.get("blocking_keys", [])):
        where = f"$.blocking_keys[{i}]"
        if key["name"] in names:
            errors.append(f"{where}.name: blocking key name {key['name']!r} is used twice")
        names.add(key["name"])
        for j, part in enumerate(key["parts"]):
            at = f"{where}.parts[{j}]"
            feature = part["feature"]
            if ("field" in part) == ("fields" in part):
                errors.append(f"{at}: give exactly one of 'field' and 'fields'")
                continue
            chosen = [part["field"]] if "field" in part else part["fields"]
            if "fields" in part and feature not in ("phonetic", "skeleton", "initial"):
                errors.append(f"{at}.fields: only name features pool several fields")
            for name in chosen:
                if name not in types:
                    errors.append(f"{at}: no field named {name!r}")
                elif types[name] not in BLOCKING_FEATURES[feature]:
                    errors.append(
                        f"{at}.feature: {feature!r} does not apply to the {types[name]} field "
                        f"{name!r}"
                    )
            for option, features in BLOCKING_OPTIONS.items():
                if option in part and feature not in features:
                    errors.append(f"{at}.{option}: does not apply to a {feature!r} part")
            if feature == "phonetic" and "algorithm" not in part:
                errors.append(f"{at}: a phonetic part needs an 'algorithm'")
    return errors


def normalise_code_text(value: str) -> str:
    """A code or spelling as compared: NFKC, trimmed, upper case (as the encoder does)."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def _meaning_errors(document: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    names: set[str] = set()
    for i, field in enumerate(document["fields"]):
        where = f"$.fields[{i}]"
        if field["name"] in names:
            errors.append(f"{where}.name: field name {field['name']!r} is used twice")
        names.add(field["name"])
        if field["column"] == document["id_column"]:
            errors.append(f"{where}.column: the id column must not be encoded")
        errors += _feature_errors(where, field["type"], field["features"])
        errors += _code_errors(where, field)
    salt = document["encoding"].get("salt")
    if salt is not None and salt["column"] == document["id_column"]:
        errors.append("$.encoding.salt.column: the id column differs for every record")
    errors += _attribute_errors(document)
    errors += _blocking_key_errors(document)
    return errors + _layout_errors(document) + _hardening_errors(document)


def _feature_spec(feature: dict[str, Any]) -> FeatureSpec:
    return FeatureSpec(
        kind=feature["kind"],
        hashes=feature["hashes"],
        n=feature.get("n", 2),
        padding=feature.get("padding", True),
        positional=feature.get("positional", False),
        tolerance=feature.get("tolerance", 0),
        resolution=feature.get("resolution", 4),
        unknown_month_days=frozenset(feature.get("unknown_month_days", ())),
        algorithm=feature.get("algorithm", "metaphone"),
    )


def _field_spec(field: dict[str, Any]) -> FieldSpec:
    missing = field.get("missing", {})
    return FieldSpec(
        name=field["name"],
        column=field["column"],
        type=field["type"],
        key_group=field.get("key_group", field["name"]),
        features=tuple(_feature_spec(feature) for feature in field["features"]),
        missing_values=frozenset(missing.get("values", ())),
        reject_missing=missing.get("action", "no_bits") == "reject",
        codes=tuple(
            (spelling, code)
            for code, spellings in sorted(field.get("codes", {}).items())
            for spelling in spellings
        ),
        bits=field.get("bits", 0),
        sample_bits=field.get("sample_bits", 0),
    )


def _attribute_spec(attribute: dict[str, Any]) -> AggregateAttribute:
    return AggregateAttribute(
        name=attribute["name"],
        column=attribute["column"],
        kind=attribute["kind"],
        optional=attribute.get("optional", False),
        values=tuple(attribute.get("values", ())),
        codes=tuple(
            (spelling, code)
            for code, spellings in sorted(attribute.get("codes", {}).items())
            for spelling in spellings
        ),
        missing_values=frozenset(attribute.get("missing", ())),
        bands=tuple(attribute.get("bands", ())),
        reference_date=attribute.get("reference_date"),
        first_year=attribute.get("first_year", 0),
        last_year=attribute.get("last_year", 0),
    )


def _blocking_key_spec(key: dict[str, Any]) -> BlockingKey:
    return BlockingKey(
        name=key["name"],
        parts=tuple(
            BlockingKeyPart(
                fields=tuple([part["field"]] if "field" in part else part["fields"]),
                feature=part["feature"],
                algorithm=part.get("algorithm", ""),
                length=part.get("length", 3),
                words=part.get("words", "each"),
            )
            for part in key["parts"]
        ),
    )


def parse_schema(document: Any, *, source: str = "schema") -> LinkageSchema:
    """Validate ``document`` (structure, then meaning) and build a ``LinkageSchema``.

    Every problem is collected and reported at once, each with its JSON location, so a data
    officer fixes the file in one pass.
    """
    errors = _structure_errors(document)
    if not errors:
        errors = _meaning_errors(document)
    if errors:
        raise SchemaError(f"{source}: invalid linkage schema: " + "; ".join(errors))
    encoding = document["encoding"]
    salt = encoding.get("salt")
    return LinkageSchema(
        name=document["name"],
        id_column=document["id_column"],
        encoding_type=encoding["type"],
        bloom_bits=encoding["filter_bits"],
        hashing=encoding["hashing"],
        fields=tuple(_field_spec(field) for field in document["fields"]),
        document=document,
        salt_column=None if salt is None else salt["column"],
        hardening=tuple(
            HardeningStep(
                kind=step["kind"],
                epsilon=float(step.get("epsilon", 0.0)),
                taps=step.get("taps", 0),
                output_bits=step.get("output_bits", 0),
            )
            for step in encoding.get("hardening", ())
        ),
        aggregate_attributes=tuple(
            _attribute_spec(attribute) for attribute in document.get("aggregate_attributes", ())
        ),
        blocking_keys=tuple(_blocking_key_spec(key) for key in document.get("blocking_keys", ())),
    )


def read_schema_document(path: str | Path) -> Any:
    """The JSON document in a schema file, before any validation.

    Errors name the file and the JSON position, never the content.
    """
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SchemaError(f"{target}: cannot read schema ({reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"{target}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def load_schema(path: str | Path) -> LinkageSchema:
    """Read and validate a linkage schema JSON file."""
    return parse_schema(read_schema_document(path), source=str(path))


@cache
def default_schema() -> LinkageSchema:
    """The built-in schema for trafficking-victim case records on the standard columns."""
    text = resources.files("blindlink.schema").joinpath("default.json").read_text(encoding="utf-8")
    return parse_schema(json.loads(text), source="built-in schema")
