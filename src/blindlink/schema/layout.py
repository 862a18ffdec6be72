"""Where each key group's bits lie in a field-level filter, computed from the schema alone.

Field-aware scoring (``linkage.fields``) compares two records segment by segment: the given
and family name bits with each other, the date-of-birth bits with each other, and so on. The
coordinator has the linkage schema (it is public and fingerprinted: every agency encodes with
the same one) but never the secret, so the layout must follow from the schema alone. It does
for a ``field_bloom`` encoding (``protocols/encoding.md`` §5): each key group's filter of
``bits`` bits is a contiguous segment, the groups concatenated in order of first appearance.

Other encodings, and hardening steps that move bits across segments, leave no layout the
coordinator can know, and ``field_layout`` says why instead of guessing:

* ``clk`` hashes every field into one shared filter: there are no segments;
* ``rbf`` samples each group's bits into the record through a *keyed* permutation;
* ``balancing`` permutes the doubled filter with a keyed permutation;
* ``xor_folding`` XORs the second half of the filter onto the first, mixing segments;
* ``diffusion`` makes each output bit the XOR of keyed-random bits from the whole record.

``blip`` (random bit flips) keeps every bit where it was, so segments survive and are scored
segment-wise; but a missing value's segment then holds the flipped bits instead of being
empty, so it is scored as a (poor) comparison, not as missing.

This module lives in ``schema`` (not ``encoding``) so that the coordinator's side can use it
without importing anything that touches plaintext or keys; the encoder places bits by the
same rule, and tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindlink.errors import SchemaError
from blindlink.schema.model import LinkageSchema

#: Why each hardening step that mixes segments leaves no usable layout.
_MIXING_STEPS = {
    "balancing": "balancing permutes the bits with a keyed permutation",
    "xor_folding": "xor_folding XORs the second half of each filter onto the first, "
    "mixing segments",
    "diffusion": "diffusion makes every bit the XOR of keyed-random bits from the whole record",
}


class NoFieldLayout(SchemaError):
    """A schema whose encoded filters have no field segments the coordinator can know."""


@dataclass(frozen=True)
class Segment:
    """The bits ``[start, stop)`` of every encoded filter that hold one key group's filter."""

    key_group: str
    fields: tuple[str, ...]
    start: int
    stop: int

    @property
    def bits(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class FieldLayout:
    """The segments of a field-level filter, in filter order; they tile ``filter_bits``."""

    filter_bits: int
    segments: tuple[Segment, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """One name per segment: its key group."""
        return tuple(segment.key_group for segment in self.segments)


def field_layout_problem(schema: LinkageSchema) -> str | None:
    """Why ``schema``'s filters have no field segments the coordinator can know; None if they do."""
    if schema.encoding_type == "clk":
        return "a 'clk' encoding hashes every field into one shared filter (no field segments)"
    if schema.encoding_type == "rbf":
        return "an 'rbf' encoding places field bits through a keyed permutation"
    for step in schema.hardening:
        if step.kind in _MIXING_STEPS:
            return f"its hardening mixes field segments: {_MIXING_STEPS[step.kind]}"
    return None


def field_layout(schema: LinkageSchema) -> FieldLayout:
    """The key-group segments of ``schema``'s encoded filters.

    Raises ``NoFieldLayout`` (naming the reason) when the encoding or its hardening leaves
    none; see the module docstring.
    """
    problem = field_layout_problem(schema)
    if problem is not None:
        raise NoFieldLayout(f"schema {schema.name!r}: no field-level layout: {problem}")
    bits: dict[str, int] = {}
    members: dict[str, list[str]] = {}
    for spec in schema.fields:
        bits.setdefault(spec.key_group, spec.bits)
        members.setdefault(spec.key_group, []).append(spec.name)
    segments: list[Segment] = []
    offset = 0
    for group, size in bits.items():  # dicts keep the order of first appearance
        segments.append(Segment(group, tuple(members[group]), offset, offset + size))
        offset += size
    return FieldLayout(filter_bits=offset, segments=tuple(segments))
