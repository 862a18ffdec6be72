"""blindlink: privacy-preserving record linkage between agencies.

Agencies encode case records into keyed Bloom filters with a secret they share
(:func:`encode`, :func:`encode_file`); a coordinator who never holds the secret links the
encodings of all agencies (:func:`link`, :func:`link_files`) into persons, per-agency link
IDs and aggregate statistics. :func:`candidate_pairs` is the Dice comparison kernel.

Heavy modules (numba kernels) load on first use, so ``import blindlink`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BlindlinkError": "blindlink.errors",
    "EncodedBatch": "blindlink.types",
    "EncodeReport": "blindlink.encoding.encoder",
    "LinkResult": "blindlink.pipeline.link",
    "LinkageSchema": "blindlink.schema",
    "candidate_pairs": "blindlink.kernels.dice",
    "default_schema": "blindlink.schema",
    "encode": "blindlink.pipeline.encode",
    "encode_file": "blindlink.pipeline.encode",
    "link": "blindlink.pipeline.link",
    "link_files": "blindlink.pipeline.link",
    "load_schema": "blindlink.schema",
    "new_secret_text": "blindlink.io.secret_file",
    "read_blk": "blindlink.io.blk",
    "read_secret_file": "blindlink.io.secret_file",
    "write_blk": "blindlink.io.blk",
    "write_results": "blindlink.pipeline.link",
}

__all__ = [
    "BlindlinkError",
    "EncodeReport",
    "EncodedBatch",
    "LinkResult",
    "LinkageSchema",
    "__version__",
    "candidate_pairs",
    "default_schema",
    "encode",
    "encode_file",
    "link",
    "link_files",
    "load_schema",
    "new_secret_text",
    "read_blk",
    "read_secret_file",
    "write_blk",
    "write_results",
]

if TYPE_CHECKING:
    from blindlink.encoding.encoder import EncodeReport
    from blindlink.errors import BlindlinkError
    from blindlink.io.blk import read_blk, write_blk
    from blindlink.io.secret_file import new_secret_text, read_secret_file
    from blindlink.kernels.dice import candidate_pairs
    from blindlink.pipeline.encode import encode, encode_file
    from blindlink.pipeline.link import LinkResult, link, link_files, write_results
    from blindlink.schema import LinkageSchema, default_schema, load_schema
    from blindlink.types import EncodedBatch


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'blindlink' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
