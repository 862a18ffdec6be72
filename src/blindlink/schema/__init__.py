"""The linkage schema: validation, model and fingerprint."""

from blindlink.schema.model import (
    AggregateAttribute,
    BlockingKey,
    BlockingKeyPart,
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
    "AggregateAttribute",
    "BlockingKey",
    "BlockingKeyPart",
    "FeatureSpec",
    "FieldSpec",
    "HardeningStep",
    "LinkageSchema",
    "canonical_json",
    "default_schema",
    "load_schema",
    "parse_schema",
]
