"""The compiled average-linkage kernel gives the reference clustering's labels exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from blindlink.kernels.average_linkage import _pairwise_sum, average_linkage
from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.cluster import ClusteringRule, cluster_records, dense_labels
from blindlink.synth import generate
from blindlink.types import CandidatePairs


def both(
    filters: np.ndarray,
    agency_of: np.ndarray,
    offsets: np.ndarray,
    threshold: float,
    same: float,
    floor: float,
) -> tuple[np.ndarray, np.ndarray]:
    scores, rows_a, rows_b = candidate_pairs(filters, None, floor)
    adjusted = scores + (offsets[rows_a] + offsets[rows_b]) / 2
    keep = adjusted >= threshold
    pairs = CandidatePairs(adjusted[keep], rows_a[keep], rows_b[keep])
    reference = cluster_records(pairs, filters, agency_of, ClusteringRule(threshold, same), offsets)
    fast = dense_labels(
        average_linkage(
            pairs.scores, pairs.rows_a, pairs.rows_b, filters, agency_of, offsets, threshold, same
        )
    )
    return reference, fast


@settings(deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=600))
def test_pairwise_sum_is_numpys(values: list[float]) -> None:
    array = np.asarray(values, dtype=np.float64)
    assert _pairwise_sum(array, 0, array.shape[0]) == (array.sum() if values else 0.0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 40),
    bits=st.sampled_from([8, 16, 64]),
    agencies=st.integers(1, 3),
    threshold=st.sampled_from([0.5, 0.6, 2 / 3, 0.75, 0.8]),
    margin=st.sampled_from([0.0, 0.05, 0.1]),
    with_offsets=st.booleans(),
)
def test_kernel_matches_reference_on_small_dense_families(
    seed: int, n: int, bits: int, agencies: int, threshold: float, margin: float,
    with_offsets: bool,
) -> None:  # fmt: skip
    rng = np.random.default_rng(seed)
    # records as noisy copies of a few prototypes: many ties and many multi-record merges
    prototypes = rng.random((3, bits)) < 0.5
    rows = prototypes[rng.integers(0, 3, n)] ^ (rng.random((n, bits)) < 0.08)
    filters = np.packbits(rows, axis=1)
    agency_of = rng.integers(0, agencies, n).astype(np.int64)
    offsets = rng.normal(0, 0.03, n) if with_offsets else np.zeros(n)
    reference, fast = both(filters, agency_of, offsets, threshold, threshold + margin, 0.3)
    assert reference.tolist() == fast.tolist()


def test_kernel_matches_reference_on_generated_records() -> None:
    from blindlink.encoding.encoder import Encoder
    from blindlink.schema import default_schema

    data = generate(n_persons=400, n_agencies=3, seed=5)
    encoder = Encoder(default_schema(), b"k" * 32)
    batches = [encoder.encode(records) for records in data.agencies.values()]
    filters = np.concatenate(batches)
    agency_of = np.repeat(np.arange(len(batches)), [len(b) for b in batches]).astype(np.int64)
    offsets = np.random.default_rng(0).normal(0, 0.02, filters.shape[0])
    for threshold in (0.55, 0.62, 0.7):
        reference, fast = both(filters, agency_of, offsets, threshold, threshold + 0.1, 0.5)
        assert reference.tolist() == fast.tolist()
        assert reference.max() < filters.shape[0] - 1  # something was merged
