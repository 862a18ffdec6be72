from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from Crypto.Cipher import AES
from hypothesis import given, settings
from hypothesis import strategies as st

from blindlink.encoding import hardening
from blindlink.encoding.hardening import (
    BitFrequencyProfile,
    balance,
    bit_frequency_profile,
    blip,
    diffuse,
    diffusion_taps,
    flip_probability,
    xor_fold,
)
from blindlink.encoding.keys import derive_key
from blindlink.errors import SecretError
from blindlink.pipeline.encode import encode
from blindlink.schema import default_schema, parse_schema
from blindlink.synth import generate

KEY = b"hardening-test-key-0123456789"
OTHER_KEY = b"another-hardening-key-98765"
Filters = npt.NDArray[np.uint8]


def random_filters(seed: int, rows: int, bits: int, density: float = 0.3) -> Filters:
    generator = np.random.default_rng(seed)
    return np.packbits(generator.random((rows, bits)) < density, axis=1)


def seeded_source(seed: int) -> Callable[[int], bytes]:
    """A reproducible stand-in for get_random_bytes (tests only)."""
    return np.random.default_rng(seed).bytes


def bits_of(filters: Filters) -> npt.NDArray[np.uint8]:
    return np.unpackbits(filters, axis=1)


def dice(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    total = int(a.sum()) + int(b.sum())
    return 2 * int((a & b).sum()) / total if total else 1.0


filter_shapes = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 40).map(lambda b: 8 * b)
)


# ------------------------------------------------------------------------------- balancing


@settings(max_examples=60, deadline=None)
@given(filter_shapes, st.floats(0.0, 1.0))
def test_balanced_filters_have_exactly_m_ones(shape: tuple[int, int, int], density: float) -> None:
    seed, rows, bits = shape
    out, out_bits = balance(random_filters(seed, rows, bits, density), bits, KEY)
    assert out_bits == 2 * bits
    assert out.shape == (rows, 2 * bits // 8)
    assert (bits_of(out).sum(axis=1) == bits).all()


@settings(max_examples=60, deadline=None)
@given(filter_shapes)
def test_balanced_dice_is_one_minus_original_hamming_over_m(shape: tuple[int, int, int]) -> None:
    """|a AND b| = m - hamming(x, y) for balanced a, b, and each has m ones."""
    seed, rows, bits = shape
    filters = random_filters(seed, rows + 1, bits)
    balanced = bits_of(balance(filters, bits, KEY).filters)
    original = bits_of(filters)
    for i in range(rows):
        hamming = int((original[i] ^ original[i + 1]).sum())
        assert dice(balanced[i], balanced[i + 1]) == pytest.approx(1 - hamming / bits)


def test_balancing_is_deterministic_per_key_and_differs_between_keys() -> None:
    filters = random_filters(1, 50, 256)
    first = balance(filters, 256, KEY).filters
    assert np.array_equal(first, balance(filters, 256, KEY).filters)
    assert not np.array_equal(first, balance(filters, 256, OTHER_KEY).filters)


def test_balancing_permutation_is_the_specified_keystream_order() -> None:
    """Pins the construction every agency must share: the stable argsort of little-endian
    64-bit words of AES-256-CTR (zero nonce and counter) under
    derive_key(key, 'hardening:balance:<m>'). An all-zero filter shows where the complement
    half went."""
    bits = 64
    cipher = AES.new(
        derive_key(KEY, f"hardening:balance:{bits}"), AES.MODE_CTR, nonce=b"", initial_value=0
    )
    words = np.frombuffer(cipher.encrypt(bytes(8 * 2 * bits)), dtype="<u8")
    order = np.argsort(words, kind="stable")
    out = balance(np.zeros((1, bits // 8), dtype=np.uint8), bits, KEY).filters
    assert np.array_equal(bits_of(out)[0], (order >= bits).astype(np.uint8))


def test_hardening_keys_must_be_long_enough() -> None:
    with pytest.raises(SecretError):
        balance(random_filters(0, 2, 64), 64, b"short")


# --------------------------------------------------------------------------------- folding


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 20).map(lambda b: 16 * b))
def test_xor_fold_matches_numpy_reference(seed: int, rows: int, bits: int) -> None:
    filters = random_filters(seed, rows, bits)
    unpacked = bits_of(filters)
    expected = np.packbits(unpacked[:, : bits // 2] ^ unpacked[:, bits // 2 :], axis=1)
    out, out_bits = xor_fold(filters, bits)
    assert out_bits == bits // 2
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("bits", [8, 24, 1000])
def test_xor_fold_refuses_halves_that_are_not_whole_bytes(bits: int) -> None:
    with pytest.raises(ValueError, match="not a multiple of 8"):
        xor_fold(np.zeros((3, bits // 8), dtype=np.uint8), bits)


def test_filters_must_match_their_stated_length() -> None:
    with pytest.raises(ValueError, match="bytes per row"):
        xor_fold(np.zeros((3, 16), dtype=np.uint8), 256)
    with pytest.raises(ValueError, match="multiple of 8"):
        xor_fold(np.zeros((3, 2), dtype=np.uint8), 12)
    with pytest.raises(ValueError, match="2-D uint8"):
        xor_fold(np.zeros((3, 4), dtype=np.int64), 32)


# --------------------------------------------------------------------------- randomisation


def test_flip_probability_follows_the_per_bit_convention() -> None:
    assert flip_probability(0) == 0.5
    assert flip_probability(2) == pytest.approx(1 / (1 + math.e**2))
    assert flip_probability(math.log(9)) == pytest.approx(0.1)
    assert flip_probability(1e6) == 0.0
    assert flip_probability(math.inf) == 0.0
    for bad in (-0.1, math.nan):
        with pytest.raises(ValueError, match="epsilon"):
            flip_probability(bad)


@pytest.mark.parametrize("epsilon", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("start", [0, 1])
def test_blip_flip_rate_matches_p(epsilon: float, start: int) -> None:
    rows, bits = 1000, 1024
    filters = np.full((rows, bits // 8), 0xFF * start, dtype=np.uint8)
    out, out_bits = blip(filters, bits, epsilon, random_bytes=seeded_source(11))
    assert out_bits == bits and out.shape == filters.shape
    flipped = (bits_of(out) != start).mean()
    p = flip_probability(epsilon)
    assert abs(flipped - p) < 5 * math.sqrt(p * (1 - p) / (rows * bits))


def test_blip_flips_the_same_mask_whatever_the_input() -> None:
    """Flips are independent of the filter: the mask is XORed on."""
    filters = random_filters(5, 40, 256)
    noisy = blip(filters, 256, 1.0, random_bytes=seeded_source(3)).filters
    mask = blip(np.zeros_like(filters), 256, 1.0, random_bytes=seeded_source(3)).filters
    assert np.array_equal(noisy ^ mask, filters)
    assert mask.any()


def test_blip_with_large_epsilon_flips_nothing() -> None:
    filters = random_filters(2, 500, 512)
    for epsilon in (40.0, math.inf):
        out = blip(filters, 512, epsilon, random_bytes=seeded_source(1)).filters
        assert np.array_equal(out, filters)
        assert out is not filters


def test_blip_uses_os_randomness_by_default() -> None:
    filters = np.zeros((64, 128), dtype=np.uint8)
    first = blip(filters, 1024, 0.0).filters
    second = blip(filters, 1024, 0.0).filters
    assert first.shape == filters.shape
    assert 0.45 < bits_of(first).mean() < 0.55
    assert not np.array_equal(first, second)
    assert not filters.any()  # the input is left alone


def test_blip_refuses_a_short_random_source() -> None:
    with pytest.raises(ValueError, match="random_bytes returned"):
        blip(np.zeros((4, 8), dtype=np.uint8), 64, 1.0, random_bytes=lambda n: bytes(n - 1))


def test_blip_blocks_draw_exactly_what_they_flip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processing rows in blocks consumes the source in order: same result as one block."""
    filters = random_filters(8, 37, 128)
    whole = blip(filters, 128, 1.0, random_bytes=seeded_source(4)).filters
    monkeypatch.setattr(hardening, "_BLOCK_BITS", 5 * 128)
    assert np.array_equal(blip(filters, 128, 1.0, random_bytes=seeded_source(4)).filters, whole)


# ------------------------------------------------------------------------------- diffusion


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 32).map(lambda b: 8 * b), st.integers(1, 32).map(lambda b: 8 * b), st.data())
def test_diffusion_taps_are_distinct_per_output_and_spread_evenly(
    filter_bits: int, output_bits: int, data: st.DataObject
) -> None:
    taps = data.draw(st.integers(1, filter_bits))
    table = diffusion_taps(KEY, filter_bits, output_bits, taps)
    assert table.shape == (output_bits, taps)
    assert ((table >= 0) & (table < filter_bits)).all()
    assert all(len(set(row.tolist())) == taps for row in table)
    uses = np.bincount(table.ravel(), minlength=filter_bits)
    share = output_bits * taps / filter_bits
    assert uses.min() >= math.floor(share) and uses.max() <= math.ceil(share)


def test_diffusion_taps_are_keyed_and_deterministic() -> None:
    table = diffusion_taps(KEY, 256, 256, 3)
    assert np.array_equal(table, diffusion_taps(KEY, 256, 256, 3))
    assert not np.array_equal(table, diffusion_taps(OTHER_KEY, 256, 256, 3))


@pytest.mark.parametrize(
    ("taps", "output_bits", "message"),
    [(0, 64, "taps"), (65, 64, "taps"), (2, 60, "output_bits"), (2, 0, "output_bits")],
)
def test_diffusion_refuses_bad_parameters(taps: int, output_bits: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        diffuse(random_filters(0, 2, 64), 64, KEY, output_bits, taps)


@pytest.mark.parametrize(("filter_bits", "output_bits", "taps"), [(256, 128, 3), (64, 200, 7)])
def test_each_diffused_bit_is_the_xor_of_its_taps(
    filter_bits: int, output_bits: int, taps: int
) -> None:
    filters = random_filters(4, 6, filter_bits)
    out, out_bits = diffuse(filters, filter_bits, KEY, output_bits, taps)
    assert out_bits == output_bits and out.shape == (6, output_bits // 8)
    table = diffusion_taps(KEY, filter_bits, output_bits, taps).tolist()
    for row, packed in zip(filters, out, strict=True):
        value = int.from_bytes(row.tobytes(), "big")
        expected = [
            sum(value >> (filter_bits - 1 - i) & 1 for i in table[j]) % 2
            for j in range(output_bits)
        ]
        assert np.unpackbits(packed).tolist() == expected


def test_diffusion_is_deterministic_per_key() -> None:
    filters = random_filters(6, 30, 512)
    first = diffuse(filters, 512, KEY, 512, 3).filters
    assert np.array_equal(first, diffuse(filters, 512, KEY, 512, 3).filters)
    assert not np.array_equal(first, diffuse(filters, 512, OTHER_KEY, 512, 3).filters)


def test_diffusion_in_blocks_equals_diffusion_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    filters = random_filters(9, 41, 256)
    whole = diffuse(filters, 256, KEY, 384, 4).filters
    monkeypatch.setattr(hardening, "_BLOCK_BITS", 3 * (256 + 384))
    assert np.array_equal(diffuse(filters, 256, KEY, 384, 4).filters, whole)


def test_diffusion_keeps_similar_filters_closer_than_dissimilar_ones() -> None:
    bits, rows = 1024, 300
    generator = np.random.default_rng(12)
    base = generator.random((rows, bits)) < 0.25
    near = base.copy()
    for i in range(rows):  # a typo's worth of change: 25 bits moved
        near[i, generator.choice(bits, 25, replace=False)] ^= True
    far = generator.random((rows, bits)) < 0.25
    packed = [np.packbits(x, axis=1) for x in (base, near, far)]
    for taps in (2, 3, 5):
        a, b, c = (bits_of(diffuse(p, bits, KEY, bits, taps).filters) for p in packed)
        similar = np.mean([dice(a[i], b[i]) for i in range(rows)])
        dissimilar = np.mean([dice(a[i], c[i]) for i in range(rows)])
        assert similar > dissimilar + 0.15


# ------------------------------------------------------------------------------ measuring


def test_bit_frequency_profile_on_a_small_example() -> None:
    filters = np.packbits(
        np.array([[1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]], dtype=np.uint8), axis=1
    )
    profile = bit_frequency_profile(filters, 8)
    assert profile.frequencies.tolist() == [1.0, 0.5, 0, 0, 0, 0, 0, 0]
    assert profile.density == pytest.approx(1.5 / 8)
    assert profile.cv == pytest.approx(np.std(profile.frequencies) / (1.5 / 8))
    shares = np.array([2 / 3, 1 / 3])
    assert profile.entropy == pytest.approx(-(shares * np.log(shares)).sum() / math.log(8))
    assert (profile.minimum, profile.maximum) == (0.0, 1.0)
    assert profile.weight_cv == pytest.approx(0.5 / 1.5)


def test_even_and_empty_profiles() -> None:
    even = bit_frequency_profile(np.full((3, 4), 0xFF, dtype=np.uint8), 32)
    assert (even.cv, even.entropy, even.weight_cv) == (0.0, pytest.approx(1.0), 0.0)
    blank = bit_frequency_profile(np.zeros((3, 4), dtype=np.uint8), 32)
    assert (blank.cv, blank.entropy, blank.density) == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="at least one filter"):
        bit_frequency_profile(np.zeros((0, 4), dtype=np.uint8), 32)


# ------------------------------------------------ effects on realistic encodings (1024 bits)


@pytest.fixture(scope="module")
def encoded() -> tuple[Filters, BitFrequencyProfile]:
    data = generate(n_persons=800, seed=3)
    rows = [r for recs in data.agencies.values() for r in recs]
    document = copy.deepcopy(default_schema().document)
    del document["encoding"]["hardening"]  # the raw Bloom filters, before any hardening
    filters = encode(
        rows, secret=b"0123456789abcdef0123", agency="a", schema=parse_schema(document)
    ).filters
    return filters, bit_frequency_profile(filters, 1024)


def test_raw_encodings_are_uneven(encoded: tuple[Filters, BitFrequencyProfile]) -> None:
    """The premise of every hardening: some positions are far more frequent than others."""
    _, raw = encoded
    assert raw.cv > 0.4 and raw.maximum > 0.6 and raw.minimum < 0.05
    assert raw.weight_cv > 0.1


def test_balancing_evens_out_filters_and_mirrors_positions(
    encoded: tuple[Filters, BitFrequencyProfile],
) -> None:
    """Balancing equalises the number of set bits per filter and the overall density, but
    does not flatten position frequencies: each position f gains a twin 1 - f, so the
    distances of the frequencies from 1/2 are exactly the raw ones, twice over."""
    filters, raw = encoded
    out = bit_frequency_profile(*balance(filters, 1024, KEY))
    assert out.weight_cv == 0.0 and out.density == pytest.approx(0.5)
    assert raw.weight_cv > 0.1
    deviations = np.sort(np.abs(out.frequencies - 0.5))
    assert np.allclose(deviations, np.sort(np.repeat(np.abs(raw.frequencies - 0.5), 2)))
    assert out.cv > 0.9 * raw.cv


def test_xor_folding_makes_positions_more_even(
    encoded: tuple[Filters, BitFrequencyProfile],
) -> None:
    filters, raw = encoded
    out = bit_frequency_profile(*xor_fold(filters, 1024))
    assert out.cv < 0.7 * raw.cv
    assert out.entropy > raw.entropy
    assert out.weight_cv < raw.weight_cv


def test_blip_pulls_frequencies_towards_one_half(
    encoded: tuple[Filters, BitFrequencyProfile],
) -> None:
    """Expected frequency after flipping: p + (1 - 2p) f, i.e. 1/2 + (1 - 2p)(f - 1/2)."""
    filters, raw = encoded
    p = flip_probability(2.0)
    out = bit_frequency_profile(*blip(filters, 1024, 2.0, random_bytes=seeded_source(21)))
    tolerance = 5 * math.sqrt(p * (1 - p) / filters.shape[0])
    assert np.abs(out.frequencies - (p + (1 - 2 * p) * raw.frequencies)).max() < tolerance
    assert np.abs(out.frequencies - 0.5).mean() < np.abs(raw.frequencies - 0.5).mean() - 0.05
    assert out.cv < 0.7 * raw.cv
    mild = bit_frequency_profile(*blip(filters, 1024, 6.0, random_bytes=seeded_source(22)))
    assert out.cv < mild.cv < raw.cv


def test_diffusion_makes_positions_markedly_more_even(
    encoded: tuple[Filters, BitFrequencyProfile],
) -> None:
    filters, raw = encoded
    profiles = [bit_frequency_profile(*diffuse(filters, 1024, KEY, 1024, t)) for t in (2, 3, 5)]
    assert profiles[1].cv < 0.4 * raw.cv
    assert all(p.entropy > raw.entropy for p in profiles)
    # more taps, flatter: the piling-up lemma drives XORs of more bits towards 1/2
    assert profiles[0].cv > profiles[1].cv > profiles[2].cv
    assert profiles[2].cv < 0.2 * raw.cv
