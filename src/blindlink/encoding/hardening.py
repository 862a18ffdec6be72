"""Bloom-filter hardening: transformations of packed filters that blunt frequency attacks.

Plain Bloom-filter encodings leak: bits of frequent tokens (common name n-grams, birth years)
are set in many filters, and pattern-mining or graph-matching attacks re-identify records from
those frequencies. The techniques here rewrite whole filters after encoding, at the agency,
before the filters leave it:

* :func:`balance` -- Schnell & Borgs (2016): each filter followed by its complement, then one
  keyed permutation; every filter has exactly half its bits set.
* :func:`xor_fold` -- Schnell, Borgs & Encheva (2016): the first half XOR the second.
* :func:`blip` -- randomised response (Alaggan, Gambs & Kermarrec 2012; Schnell & Borgs
  2016): every bit flipped independently with probability ``1 / (1 + e**epsilon)``.
* :func:`diffuse` -- the linear diffusion layer of Armknecht, Heng & Schnell (PoPETs 2023):
  each output bit is the XOR of a keyed set of ``taps`` input bits.

:func:`bit_frequency_profile` measures what an attacker counting bits would see.

Every hardening takes packed filters (2-D ``uint8``, one row per record, bit ``i`` is bit
``7 - i % 8`` of byte ``i // 8``, as ``np.packbits`` writes them) and returns a
:class:`Hardened` pair (filters, filter length in bits), so that steps compose and a batch is
rebuilt with ``dataclasses.replace(batch, **hardened._asdict())``.

Keyed choices (the balancing permutation, the diffusion taps) must be identical at every
agency and unknown to the coordinator. ``key`` is any secret the agencies share of at least
16 bytes (the linkage secret will do; shorter keys raise ``SecretError``); the choices come
from a key derived from it with HKDF-SHA256 (:func:`blindlink.encoding.keys.derive_key`, one
purpose per technique and parameter set), stretched by AES-256 in CTR mode over zero bytes
(:func:`blindlink.encoding.keyed_random.keyed_words`). BLIP's flips must be unpredictable to
everyone, so they come from the operating system's generator
(``Crypto.Random.get_random_bytes``), never from a key and never from numpy's generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from Crypto.Random import get_random_bytes

from blindlink.encoding import assemble
from blindlink.encoding.keyed_random import keyed_words
from blindlink.encoding.keys import derive_key

__all__ = [
    "BitFrequencyProfile",
    "Hardened",
    "RandomBytes",
    "balance",
    "bit_frequency_profile",
    "blip",
    "diffuse",
    "diffusion_taps",
    "flip_probability",
    "xor_fold",
]

#: Unpacked bits (one byte each) held at once per block of rows: bounds memory on big batches.
_BLOCK_BITS = 1 << 24
#: BLIP compares 32-bit uniform integers with a threshold: flip probabilities are exact to 2**-32.
_UNIFORM_SCALE = 1 << 32

#: A source of ``n`` uniformly random bytes (``Crypto.Random.get_random_bytes`` by default).
RandomBytes = Callable[[int], bytes]
Filters = npt.NDArray[np.uint8]


class Hardened(NamedTuple):
    """Hardened packed filters and their length in bits (which some techniques change)."""

    filters: Filters
    filter_bits: int


@dataclass(frozen=True)
class BitFrequencyProfile:
    """How evenly set bits are spread, over positions and over filters.

    ``frequencies[i]`` is the share of filters with bit ``i`` set. ``cv`` is their coefficient
    of variation (standard deviation / mean; 0 when every position is equally frequent) and
    ``entropy`` the Shannon entropy of ``frequencies / frequencies.sum()`` divided by
    ``log(filter_bits)`` (1 when every position is equally frequent): both measure how much a
    frequency attack can tell positions apart. ``weight_cv`` is the coefficient of variation
    of the number of set bits per filter, which tells records apart by their length.
    An all-zero set of filters counts as perfectly even (``cv`` 0, ``entropy`` 1).
    """

    frequencies: npt.NDArray[np.float64]
    density: float
    cv: float
    entropy: float
    minimum: float
    maximum: float
    weight_cv: float


def _check_filters(filters: Filters, filter_bits: int) -> None:
    if filter_bits <= 0 or filter_bits % 8:
        raise ValueError(f"filter_bits must be a positive multiple of 8, got {filter_bits}")
    if filters.dtype != np.uint8 or filters.ndim != 2:
        raise ValueError("filters must be a 2-D uint8 array of packed filters")
    if filters.shape[1] != filter_bits // 8:
        raise ValueError(
            f"filters have {filters.shape[1]} bytes per row; {filter_bits} bits need "
            f"{filter_bits // 8}"
        )


def _rows_per_block(bits_per_row: int) -> int:
    return max(1, _BLOCK_BITS // bits_per_row)


def _keyed_permutations(key: bytes, purpose: str, count: int, size: int) -> npt.NDArray[np.intp]:
    """``count`` keyed permutations of ``range(size)``, one per row.

    Row ``r`` is the stable sorting order of words ``r * size`` to ``(r + 1) * size`` of the
    keyed stream (:func:`blindlink.encoding.keyed_random.keyed_words`, as its
    ``keyed_permutation`` does for one row) under an HKDF key for ``purpose``, so that each
    technique and parameter set draws an independent stream from one linkage secret.
    """
    stream_key = derive_key(key, f"hardening:{purpose}")
    words = keyed_words(stream_key, count * size).reshape(count, size)
    return np.argsort(words, axis=1, kind="stable")


# ------------------------------------------------------------------------------- balancing


def balance(filters: Filters, filter_bits: int, key: bytes) -> Hardened:
    """Balanced Bloom filters (Schnell & Borgs 2016): ``permute(x || not x)``, 2m bits.

    Every output filter has exactly ``filter_bits`` set bits, so the number of set bits no
    longer tells records apart, and each position is set in as many filters as its twin is
    clear in. One keyed permutation of the ``2 * filter_bits`` positions (the same for every
    record and agency) hides which positions are twins. Dice similarity becomes
    ``1 - hamming(x, y) / filter_bits``: a monotone function of the original Hamming
    distance, so linkage still works, with a higher baseline for unrelated records.
    ``key`` must be the same at every agency (e.g. the linkage secret).
    """
    _check_filters(filters, filter_bits)
    doubled = 2 * filter_bits
    order = _keyed_permutations(key, f"balance:{filter_bits}", 1, doubled)[0]
    out = np.empty((filters.shape[0], doubled // 8), dtype=np.uint8)
    rows = _rows_per_block(doubled)
    for start in range(0, filters.shape[0], rows):
        bits = np.unpackbits(filters[start : start + rows], axis=1)
        both = np.concatenate([bits, 1 - bits], axis=1)
        out[start : start + rows] = np.packbits(both[:, order], axis=1)
    return Hardened(out, doubled)


# ---------------------------------------------------------------------------------- folding


def xor_fold(filters: Filters, filter_bits: int) -> Hardened:
    """XOR-folding (Schnell, Borgs & Encheva 2016): bit ``i`` is ``x[i] XOR x[i + m/2]``.

    No bit of the result belongs to a single token any more, which breaks the one-to-one
    link between frequent tokens and frequent positions that pattern-mining attacks use;
    the price is half the length and some similarity noise. The half length must stay a
    whole number of bytes (``filter_bits`` a multiple of 16) because filters are packed.
    """
    _check_filters(filters, filter_bits)
    half = filter_bits // 2
    if half % 8:
        raise ValueError(
            f"xor_fold halves {filter_bits} bits to {half}, which is not a multiple of 8"
        )
    return Hardened(assemble.xor_fold(filters, 1), half)


# --------------------------------------------------------------------------- randomisation


def flip_probability(epsilon: float) -> float:
    """BLIP's per-bit flip probability ``1 / (1 + e**epsilon)`` (0.5 at 0, 0 at infinity)."""
    if math.isnan(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be a number >= 0, got {epsilon}")
    odds = math.exp(-epsilon)  # written this way round so that a large epsilon cannot overflow
    return odds / (1.0 + odds)


def blip(
    filters: Filters,
    filter_bits: int,
    epsilon: float,
    random_bytes: RandomBytes | None = None,
) -> Hardened:
    """BLIP randomised response: flip every bit independently with ``1 / (1 + e**epsilon)``.

    **Convention: epsilon is per bit.** Each published bit is an epsilon-differentially
    private answer about its own input bit (randomised response: the odds of either input
    given the output are at most ``e**epsilon``). A token sets up to ``k`` bits, so adding or
    removing one token is ``k * epsilon``-private; Alaggan et al. state budgets per item and
    flip with ``1 / (1 + e**(epsilon_item / k))``: pass ``epsilon_item / k`` here for that.
    Changing a whole record changes hundreds of bits: BLIP blurs frequencies, it gives no
    useful record-level guarantee. Flip rates: epsilon 2 -> 11.9 %, 4 -> 1.8 %, 6 -> 0.25 %.

    Flips come from ``random_bytes`` (default ``Crypto.Random.get_random_bytes``): 32-bit
    uniform integers compared with ``round(p * 2**32)``. Tests may inject a seeded source;
    production must not, since anyone who can replay the flips can undo them. Each agency
    flips its own filters independently; the length is unchanged.
    """
    _check_filters(filters, filter_bits)
    threshold = round(flip_probability(epsilon) * _UNIFORM_SCALE)
    source = random_bytes if random_bytes is not None else get_random_bytes
    out = filters.copy()
    rows = _rows_per_block(filter_bits)
    for start in range(0, filters.shape[0], rows):
        block = out[start : start + rows]
        wanted = 4 * block.shape[0] * filter_bits
        raw = source(wanted)
        if len(raw) != wanted:
            raise ValueError(f"random_bytes returned {len(raw)} bytes, {wanted} were asked for")
        uniform = np.frombuffer(raw, dtype="<u4").reshape(block.shape[0], filter_bits)
        block ^= np.packbits(uniform < threshold, axis=1)
    return Hardened(out, filter_bits)


# -------------------------------------------------------------------------------- diffusion


def diffusion_taps(
    key: bytes, filter_bits: int, output_bits: int, taps: int
) -> npt.NDArray[np.intp]:
    """The keyed tap table of :func:`diffuse`: row ``j`` lists the input bits of output ``j``.

    As in the authors' artifact (``gen_indices_1`` in github.com/youzheheng/2022_PoPETS), the
    taps are read ``taps`` at a time from a stream of keyed permutations of the input
    positions, so every input bit feeds ``floor`` or ``ceil`` of
    ``output_bits * taps / filter_bits`` outputs: no input is ignored or over-weighted.
    Where an output's taps straddle two permutations, repeats are swapped with later
    positions of the second permutation (keeping it a permutation): a repeated tap would
    cancel itself in the XOR.
    """
    if not 1 <= taps <= filter_bits:
        raise ValueError(f"taps must be between 1 and filter_bits ({filter_bits}), got {taps}")
    if output_bits <= 0 or output_bits % 8:
        raise ValueError(f"output_bits must be a positive multiple of 8, got {output_bits}")
    needed = output_bits * taps
    rounds = -(-needed // filter_bits)
    purpose = f"diffusion:{filter_bits}:{output_bits}:{taps}"
    perms = _keyed_permutations(key, purpose, rounds, filter_bits)
    for r in range(1, rounds):
        start = (r * filter_bits // taps) * taps  # stream position of the output at boundary r
        if start == r * filter_bits:
            continue  # no output straddles this boundary
        tail = perms[r - 1, start - (r - 1) * filter_bits :]
        head = taps - len(tail)
        row = perms[r]
        outside = (j for j in range(head, filter_bits) if row[j] not in tail)
        for i in range(head):
            if row[i] in tail:
                j = next(outside)
                row[i], row[j] = row[j], row[i]
    return perms.reshape(-1)[:needed].reshape(output_bits, taps)


def diffuse(
    filters: Filters, filter_bits: int, key: bytes, output_bits: int, taps: int
) -> Hardened:
    """Linear diffusion (Armknecht, Heng & Schnell, PoPETs 2023): output ``j`` is the XOR
    of the input bits ``diffusion_taps(...)[j]``.

    Every output bit mixes ``taps`` (the paper's t) input bits chosen by ``key`` (the same at
    every agency), and every input bit feeds about ``output_bits * taps / filter_bits``
    outputs (``output_bits`` is the paper's l). No output position belongs to a single token
    any more, and by the piling-up lemma an XOR of several bits is set closer to half the
    time than its inputs, so position frequencies flatten as t grows. Two filters at Hamming
    distance d differ in an output bit with probability about ``(1 - (1 - 2d/m)**t) / 2``:
    similarity survives for small t and fades as t grows.

    Confirmed from the authors' artifact (github.com/youzheheng/2022_PoPETS, ``Codes/``):
    each output is the XOR (``encode_bf_lfsr_1``) of ``random_selection`` = t positions read
    from successive shuffles of all positions (``gen_indices_1``), with ``num_output`` = l
    outputs; the README's example runs use m = l = 500 and t in {1, 5, 10}; the results file
    (m = l = 1000) shows the correlation of plain and encoded similarities fall from
    0.97 / 0.95 at t = 2 to 0.70 / 0.31 at t = 10 (5 / 10 hashes per token; 0.98 without
    diffusion), with the graph attack's re-identifications falling in step. Hence the usable
    range is small t (2 to 5) with l close to m. The artifact draws taps with Python's
    unkeyed ``random``; here they are keyed. Not confirmed: the paper's own text (its
    analysis and any formal advice on choosing l and t) was not available to us.
    """
    _check_filters(filters, filter_bits)
    table = diffusion_taps(key, filter_bits, output_bits, taps)
    out = np.empty((filters.shape[0], output_bits // 8), dtype=np.uint8)
    rows = _rows_per_block(filter_bits + output_bits)
    for start in range(0, filters.shape[0], rows):
        bits = np.unpackbits(filters[start : start + rows], axis=1)
        mixed = bits[:, table[:, 0]]
        for column in range(1, taps):
            mixed ^= bits[:, table[:, column]]
        out[start : start + rows] = np.packbits(mixed, axis=1)
    return Hardened(out, output_bits)


# -------------------------------------------------------------------------------- measuring


def _cv(values: npt.NDArray[np.float64]) -> float:
    mean = float(values.mean())
    return float(values.std() / mean) if mean > 0 else 0.0


def bit_frequency_profile(filters: Filters, filter_bits: int) -> BitFrequencyProfile:
    """Per-position set frequencies of ``filters`` and how uneven they are (see the class)."""
    _check_filters(filters, filter_bits)
    if filters.shape[0] == 0:
        raise ValueError("a bit-frequency profile needs at least one filter")
    counts = np.zeros(filter_bits, dtype=np.int64)
    weights = np.empty(filters.shape[0], dtype=np.float64)
    rows = _rows_per_block(filter_bits)
    for start in range(0, filters.shape[0], rows):
        bits = np.unpackbits(filters[start : start + rows], axis=1)
        counts += bits.sum(axis=0, dtype=np.int64)
        weights[start : start + rows] = bits.sum(axis=1, dtype=np.int64)
    frequencies = counts / filters.shape[0]
    total = float(frequencies.sum())
    entropy = 1.0
    if total > 0:
        shares = frequencies[frequencies > 0] / total
        entropy = float(-(shares * np.log(shares)).sum() / math.log(filter_bits))
    return BitFrequencyProfile(
        frequencies=frequencies,
        density=float(frequencies.mean()),
        cv=_cv(frequencies),
        entropy=entropy,
        minimum=float(frequencies.min()),
        maximum=float(frequencies.max()),
        weight_cv=_cv(weights),
    )
