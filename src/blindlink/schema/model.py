"""The linkage schema: a frozen description of what to encode and how.

A schema is described first and compiled later: this module only validates and stores. The
agency-side encoder compiles a ``LinkageSchema`` into hashing work; the coordinator only ever
compares schema fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from blindlink.errors import SchemaError

FIELD_TYPES = ("person_name", "date", "categorical")
#: Which feature kinds make sense for which field type (the meaning check after JSON Schema).
FEATURES_BY_FIELD_TYPE: dict[str, frozenset[str]] = {
    "person_name": frozenset({"ngrams", "skeleton_ngrams", "exact", "phonetic"}),
    "date": frozenset({"year", "month_day"}),
    "categorical": frozenset({"exact"}),
}


@dataclass(frozen=True)
class FeatureSpec:
    """One kind of token a field emits, and how many bits each token sets."""

    kind: str
    hashes: int
    n: int = 2
    tolerance: int = 0
    unknown_month_days: frozenset[str] = frozenset()
    algorithm: str = "metaphone"


@dataclass(frozen=True)
class FieldSpec:
    """One CSV column and the features extracted from it."""

    name: str
    column: str
    type: str
    key_group: str
    features: tuple[FeatureSpec, ...]


@dataclass(frozen=True)
class LinkageSchema:
    """A validated linkage schema; ``document`` is the exact JSON it came from."""

    name: str
    id_column: str
    encoding_type: str
    filter_bits: int
    hashing: str
    fields: tuple[FieldSpec, ...]
    document: dict[str, Any]

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
        for spec in self.fields:
            if spec.column not in seen:
                seen.append(spec.column)
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
        allowed = FEATURES_BY_FIELD_TYPE[field["type"]]
        kinds: set[str] = set()
        for j, feature in enumerate(field["features"]):
            if feature["kind"] not in allowed:
                errors.append(
                    f"{where}.features[{j}].kind: {feature['kind']!r} does not apply to a "
                    f"{field['type']} field (use one of {sorted(allowed)})"
                )
            if feature["kind"] == "phonetic" and "algorithm" not in feature:
                errors.append(f"{where}.features[{j}]: a phonetic feature needs an 'algorithm'")
            if feature["kind"] in kinds:
                errors.append(f"{where}.features[{j}].kind: {feature['kind']!r} appears twice")
            kinds.add(feature["kind"])
    return errors


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
    fields = tuple(
        FieldSpec(
            name=f["name"],
            column=f["column"],
            type=f["type"],
            key_group=f.get("key_group", f["name"]),
            features=tuple(
                FeatureSpec(
                    kind=feat["kind"],
                    hashes=feat["hashes"],
                    n=feat.get("n", 2),
                    tolerance=feat.get("tolerance", 0),
                    unknown_month_days=frozenset(feat.get("unknown_month_days", ())),
                    algorithm=feat.get("algorithm", "metaphone"),
                )
                for feat in f["features"]
            ),
        )
        for f in document["fields"]
    )
    encoding = document["encoding"]
    return LinkageSchema(
        name=document["name"],
        id_column=document["id_column"],
        encoding_type=encoding["type"],
        filter_bits=encoding["filter_bits"],
        hashing=encoding["hashing"],
        fields=fields,
        document=document,
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
