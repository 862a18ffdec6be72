"""The pattern-mining attack of Christen, Vidanage, Ranbaduge & Schnell (PAKDD 2018).

Why it works on plain Bloom filters: every token (``g2:an``, ``s2:mh``...) sets the same k bit
positions in every filter that holds it, so those k positions are *all* set in every record
with the token -- a frequent itemset of bit positions whose support is the token's frequency,
found without the secret. The attacker then assigns itemsets to tokens by frequency, reads
off which tokens each filter holds, and looks for names in a public list that fit.

This is our own vectorised rendering of the paper's three steps (written from its
description, not from its code):

1. **Mining** (:func:`mine_patterns`). Pairs of positions that co-occur far more often than
   chance (an excess over independence of at least :data:`SEED_Z` standard errors) are seeds,
   most frequent pair first, as the paper mines the most frequent q-gram first. A seed grows
   one position at a time (Apriori-style, always the position set in most of the filters
   that hold the itemset so far) while that position is set in at least 75 % of them -- 95 %
   once the itemset has more than :data:`LOOSE_SIZE` positions, so that chance co-occurrence
   is outgrown but a different, merely correlated token is not swallowed. The pattern is then
   every position set in 98 % of the supporting filters (the intersection of the candidate
   filters), less the positions of patterns already found inside it (a token whose records
   always hold another token, ``g2:_m`` and ``s2:_m``, would otherwise carry the other's
   bits). Every token becomes at most one pattern; its support is its frequency.
2. **Assignment** (:func:`align_patterns`). A pattern's size says which kind of token it is
   (the schema says how many bits each feature sets); among tokens of that kind whose
   expected frequency (from the name list) is within 50 % of the pattern's, the attacker
   first fixes the pattern whose best token is clearly better than its second best, then
   compares the remaining candidates on how often they co-occur with the tokens already
   fixed (``P(fixed | pattern)`` against ``P(fixed | token)``, both ways). This conditional
   comparison is the paper's recursive partitioning of the filters by q-gram, done for all
   partitions at once; without it, frequencies alone are too close to tell most tokens apart.
3. **Re-identification** (:func:`reidentify`). A filter holds an assigned token when all its
   positions are set, and certainly lacks it when one is clear. A listed name fits a filter
   when the filter holds every assigned token of the name; the attack claims the name when
   one name fits with the most assigned tokens (at least :data:`MIN_NAME_TOKENS`), alone.

Hardening breaks step 1: after diffusion or XOR-folding no bit belongs to one token, so a
token's positions are not all set in its records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blindlink.audit.names import NameList, TokenModel

__all__ = [
    "Alignment",
    "Pattern",
    "align_patterns",
    "mine_patterns",
    "reidentify",
    "true_token_rows",
    "unpack",
]

#: Seeds: pairs whose co-occurrence exceeds independence by this many standard errors.
SEED_Z = 5.0
#: Itemsets grow on 75 %-support up to this size, on 95 % beyond it.
LOOSE_SIZE = 5
#: Smallest pattern kept (a token of fewer bits cannot be told from chance co-occurrence).
MIN_PATTERN_BITS = 4
#: Seeds examined at most (each costs a few passes over the supporting filters) ...
MAX_SEEDS = 3000
#: ... and mining stops after this many seeds in a row that gave no pattern.
MAX_FAILED_SEEDS = 250
#: Mining uses at most this many filters (a fixed sample); supports are then counted on all.
MAX_MINING_RECORDS = 20_000
#: A name is claimed only if it holds at least this many assigned tokens.
MIN_NAME_TOKENS = 3
#: Tokens whose expected frequency is off the pattern's by more than this log-ratio are no
#: candidates for it (0.4: a factor of 1.5).
MAX_LOG_RATIO = 0.4
#: Records scored against the names at once (bounds the names x records matrix).
_REID_BLOCK = 2048

Bits = npt.NDArray[np.bool_]


def unpack(filters: npt.NDArray[np.uint8], filter_bits: int) -> Bits:
    """Packed filters (one row per record) as a boolean matrix, one column per bit."""
    return np.unpackbits(filters, axis=1, count=filter_bits).astype(bool)


@dataclass(frozen=True)
class Pattern:
    """Bit positions all set together in ``support`` filters (``rows`` marks which)."""

    positions: npt.NDArray[np.intp]
    rows: Bits

    @property
    def support(self) -> int:
        return int(self.rows.sum())


def _rows_all(bits: Bits, positions: Sequence[int] | npt.NDArray[np.intp]) -> Bits:
    out: Bits = np.all(bits[:, np.asarray(positions, dtype=np.intp)], axis=1)
    return out


def mine_patterns(bits: Bits, *, min_support: int) -> list[Pattern]:
    """Frequent, closed sets of bit positions: candidate token patterns (step 1 above)."""
    n_all, m = bits.shape
    sample = bits
    if n_all > MAX_MINING_RECORDS:
        pick = np.random.default_rng(0).choice(n_all, MAX_MINING_RECORDS, replace=False)
        sample = bits[np.sort(pick)]
        min_support = max(2, round(min_support * MAX_MINING_RECORDS / n_all))
    n = sample.shape[0]
    dense = sample.astype(np.float32)
    co = dense.T @ dense
    del dense
    counts = np.diag(co).astype(np.float64)
    expected = np.outer(counts, counts) / max(n, 1)
    z = (co - expected) / np.sqrt(np.maximum(expected, 1.0))
    priority = np.where(z >= SEED_Z, co, -np.inf)
    del z, expected
    np.fill_diagonal(priority, -np.inf)
    found = np.zeros((0, m), dtype=bool)  # one row per pattern: its positions
    cores: list[npt.NDArray[np.intp]] = []
    failed = 0
    for _ in range(MAX_SEEDS):
        if failed >= MAX_FAILED_SEEDS:
            break
        flat = int(np.argmax(priority))
        i, j = divmod(flat, m)
        if priority[i, j] < min_support:
            break
        priority[i, j] = priority[j, i] = -np.inf
        core = _grow(sample, i, j, min_support, found)
        failed = 0 if core is not None else failed + 1
        if core is not None:
            cores.append(core)
            row = np.zeros((1, m), dtype=bool)
            row[0, core] = True
            found = np.concatenate([found, row])
            priority[core, :] = -np.inf  # seeds come from positions no pattern holds yet
            priority[:, core] = -np.inf
    return [
        Pattern(core, _rows_all(bits, core))
        for core in _without_nested(cores, found)
        if len(core) >= MIN_PATTERN_BITS
    ]


def _grow(bits: Bits, i: int, j: int, min_support: int, found: Bits) -> npt.NDArray[np.intp] | None:
    """Grow the seed pair into a closed itemset, less the patterns already found inside it.

    None if it falls below the minimum support or keeps fewer than MIN_PATTERN_BITS bits.
    """
    chosen = [i, j]
    rows = bits[:, i] & bits[:, j]
    while True:
        support = int(rows.sum())
        if support < min_support:
            return None
        share = np.count_nonzero(bits[rows], axis=0) / support
        share[chosen] = -1.0
        best = int(np.argmax(share))
        needed = 0.75 if len(chosen) <= LOOSE_SIZE else 0.95
        if share[best] < needed or len(chosen) >= 64:
            break
        chosen.append(best)
        rows &= bits[:, best]
    inside = np.count_nonzero(bits[rows], axis=0) >= 0.98 * support
    if len(found):
        nested = found[~np.any(found & ~inside[None, :], axis=1)]
        inside &= ~np.any(nested, axis=0)
    core = np.flatnonzero(inside)
    if len(core) < MIN_PATTERN_BITS or _rows_all(bits, core).sum() < min_support:
        return None
    return core


def _without_nested(cores: list[npt.NDArray[np.intp]], found: Bits) -> list[npt.NDArray[np.intp]]:
    """Remove from each pattern the positions of smaller patterns found inside it later."""
    if not cores:
        return []
    dense = found.astype(np.float32)
    overlap = dense @ dense.T
    sizes = dense.sum(axis=1)
    nested = (overlap == sizes[None, :]) & (sizes[None, :] < sizes[:, None])
    out = []
    for a, core in enumerate(cores):
        inner = np.any(found[nested[a]], axis=0)
        out.append(core[~inner[core]] if inner.any() else core)
    return out


# ------------------------------------------------------------------------------- assignment


@dataclass(frozen=True)
class Alignment:
    """Patterns assigned to tokens: ``pattern[i]`` is taken for token ``token[i]``.

    ``contrast[i]`` is how much better the chosen token fits than a typical candidate
    (1 - best distance / median distance): near 0 the choice was a guess.
    """

    pattern: npt.NDArray[np.intp]
    token: npt.NDArray[np.intp]
    contrast: npt.NDArray[np.float64]


def _kind_sizes(sizes: npt.NDArray[np.intp], model: TokenModel) -> npt.NDArray[np.int64]:
    """The bits-per-token of the feature each pattern most likely encodes (nearest count)."""
    name_hashes = set(model.hashes.tolist())
    options = sorted(model.all_hashes, key=lambda k: (k not in name_hashes, k))
    options_arr = np.array(options, dtype=np.int64)
    distance = np.abs(sizes[:, None] - options_arr[None, :])
    nearest: npt.NDArray[np.int64] = options_arr[np.argmin(distance, axis=1)]
    return nearest  # ties go to name features (listed first)


def align_patterns(patterns: Sequence[Pattern], model: TokenModel, records: int) -> Alignment:
    """Assign patterns to tokens by frequency, then by co-occurrence (step 2 above)."""
    empty = Alignment(np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0))
    if not patterns or not model.tokens or records == 0:
        return empty
    sizes = np.array([len(p.positions) for p in patterns], dtype=np.intp)
    presence = np.stack([p.rows for p in patterns], axis=1).astype(np.float32)
    seen1 = presence.mean(axis=0).astype(np.float64)
    seen2 = (presence.T @ presence).astype(np.float64) / records
    expected1 = np.maximum(model.single, 1e-9)
    log_gap = np.abs(np.log(np.maximum(seen1, 1e-9))[:, None] - np.log(expected1)[None, :])
    compatible = (_kind_sizes(sizes, model)[:, None] == model.hashes[None, :]) & (
        log_gap < MAX_LOG_RATIO
    )
    n_pat, n_tok = compatible.shape
    total = np.zeros((n_pat, n_tok))
    chosen_p: list[int] = []
    chosen_t: list[int] = []
    contrast: list[float] = []
    free_p = np.ones(n_pat, dtype=bool)
    free_t = np.ones(n_tok, dtype=bool)
    while True:
        distance = total / len(chosen_p) + 0.2 * log_gap if chosen_p else log_gap.copy()
        usable = compatible & free_p[:, None] & free_t[None, :]
        distance = np.where(usable, distance, np.inf)
        if n_tok >= 2:
            two = np.partition(distance, 1, axis=1)[:, :2]
        else:
            two = np.concatenate([distance, np.full((n_pat, 1), np.inf)], axis=1)
        with np.errstate(invalid="ignore"):
            margin = np.where(np.isfinite(two[:, 0]), two[:, 1] - two[:, 0], -np.inf)
        margin = np.nan_to_num(margin, nan=-np.inf, posinf=1e9)
        p = int(np.argmax(margin))
        if not np.isfinite(two[p, 0]) or margin[p] < 0.01:
            break
        t = int(np.argmin(distance[p]))
        finite = distance[p][np.isfinite(distance[p])]
        typical = float(np.median(finite)) if len(finite) > 1 else float("inf")
        contrast.append(1.0 - float(distance[p, t]) / typical if typical > 0 else 0.0)
        chosen_p.append(p)
        chosen_t.append(t)
        free_p[p] = False
        free_t[t] = False
        # co-occurrence with the new anchor, both ways, for every (pattern, token) candidate
        seen_given = seen2[:, p] / np.maximum(seen1, 1e-9)
        expected_given = model.pair[:, t] / expected1
        seen_of = seen2[:, p] / max(seen1[p], 1e-9)
        expected_of = model.pair[:, t] / expected1[t]
        total += np.abs(seen_given[:, None] - expected_given[None, :])
        total += np.abs(seen_of[:, None] - expected_of[None, :])
    return Alignment(
        np.array(chosen_p, dtype=np.intp),
        np.array(chosen_t, dtype=np.intp),
        np.array(contrast, dtype=np.float64),
    )


# ------------------------------------------------------------------------ re-identification


def reidentify(
    bits: Bits,
    patterns: Sequence[Pattern],
    alignment: Alignment,
    model: TokenModel,
    names: NameList,
    fields: Sequence[str],
) -> dict[str, list[str | None]]:
    """For each name field, the name the attack claims for each record (None: no claim)."""
    n = bits.shape[0]
    out: dict[str, list[str | None]] = {}
    if len(alignment.token) == 0:
        return {field: [None] * n for field in fields}
    assigned = alignment.token
    holds = np.stack(
        [patterns[int(p)].rows for p in alignment.pattern.tolist()], axis=1
    )  # records x assigned tokens
    lacks = (~holds).astype(np.float32)
    for field in fields:
        listed, full = model.incidence[field]
        incidence = full[:, assigned].tocsr()  # sparse: a name holds few assigned tokens
        size = np.asarray(incidence.sum(axis=1), dtype=np.float64).reshape(-1)
        claims: list[str | None] = []
        for start in range(0, n, _REID_BLOCK):
            # names x records: how many of a name's assigned tokens the filter lacks
            clash = np.asarray(incidence @ lacks[start : start + _REID_BLOCK].T)
            score = np.where(clash == 0, size[:, None], -1.0)
            best = score.max(axis=0) if len(listed) else np.full(clash.shape[1], -1.0)
            ties = (score == best[None, :]).sum(axis=0)
            top = score.argmax(axis=0) if len(listed) else np.zeros(clash.shape[1], np.intp)
            claims += [
                listed[int(a)] if (b >= MIN_NAME_TOKENS and c == 1) else None
                for a, b, c in zip(top.tolist(), best.tolist(), ties.tolist(), strict=True)
            ]
        out[field] = claims
    return out


def true_token_rows(
    model: TokenModel, truth: Mapping[str, Sequence[str]], records: int
) -> dict[str, Bits]:
    """For each name token, the records that really hold it (from the agency's plaintext)."""
    rows: dict[str, list[int]] = {}
    for field, values in truth.items():
        if field not in model.extractors:
            continue
        for record, name in enumerate(values):
            for token in model.name_tokens(field, name):
                rows.setdefault(token, []).append(record)
    out: dict[str, Bits] = {}
    for token, held in rows.items():
        mask = np.zeros(records, dtype=bool)
        mask[held] = True
        out[token] = mask
    return out
