"""blindlink must keep reproducing its published known-answer vectors byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "protocols" / "test-vectors"


def test_encoding_vectors_are_reproduced() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_encoding_vectors", VECTORS / "make_encoding_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    published = json.loads((VECTORS / "encoding-v1.json").read_text(encoding="utf-8"))
    assert module.build() == published
    empty = published["records"][4]
    assert set(empty["filter_hex"]) == {"0"}, "a record with no usable value sets no bits"
