"""The linkage schema: validation, model and fingerprint."""

from blindlink.schema.model import (
    FeatureSpec,
    FieldSpec,
    HardeningStep,
    LinkageSchema,
    canonical_json,
    default_schema,
    load_schema,
    parse_schema,
)

__all__ = [
    "FeatureSpec",
    "FieldSpec",
    "HardeningStep",
    "LinkageSchema",
    "canonical_json",
    "default_schema",
    "load_schema",
    "parse_schema",
]
