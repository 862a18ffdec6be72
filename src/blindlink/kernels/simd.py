"""LLVM intrinsics that numba does not expose: hardware popcount, vector AND-popcount tiles.

numba has no popcount builtin, and LLVM does not recognise the usual SWAR bit trick as one, so
the scalar kernel used to spend ~12 instructions per 64-bit word. Here the kernels ask LLVM
for ``llvm.ctpop`` directly. The IR is target-independent: LLVM lowers ``llvm.ctpop.v8i64`` to
``vpopcntq`` on CPUs with AVX-512 VPOPCNTDQ, to a ``vpshufb`` nibble table on AVX2, to
``cnt``/``uaddlp`` on ARM NEON and to plain bit arithmetic elsewhere. numba compiles for the
host CPU (its on-disk cache is keyed by CPU name and features), so nothing here forces an
instruction set and the same code runs on any x86-64 or ARM machine.

numba's on-disk cache tracks only the source of the file a cached function lives in, so the
cached kernels in ``dice.py`` would not notice a change here: ``dice.SIMD_FINGERPRINT`` must
be this file's sha256 (a test checks), which makes every change here a change there.

:func:`tile_intersections` is the inner loop of the Dice kernel. One side of the comparison is
stored as *tiles*: :data:`TILE_ROWS` filters transposed so that word ``w`` of all of them is
contiguous (``tiles[t, w, lane]``). The loop then runs over words, and each step ANDs one word
of the other filter (broadcast) with the same word of 32 filters at once, in four independent
8-lane accumulators, so the vector units never wait on a horizontal sum.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba.core import cgutils as _cgutils
from numba.core import types
from numba.extending import intrinsic

#: 64-bit lanes per vector register in the generated IR (512 bits: one AVX-512 register).
VECTOR_LANES = 8
#: Independent vector accumulators per tile: enough to hide popcount/add latency.
VECTORS_PER_TILE = 4
#: Filters per tile; the AND-popcount of one filter with a tile yields this many counts.
TILE_ROWS = VECTOR_LANES * VECTORS_PER_TILE
#: Byte alignment of tile arrays: a 64-byte vector load that straddles two cache lines costs
#: two loads, which measured ~1.4x slower on the whole loop.
TILE_ALIGNMENT = 64

#: numba's codegen helpers carry no annotations; use them untyped.
cgutils: Any = _cgutils

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_VEC = ir.VectorType(_I64, VECTOR_LANES)


def _splat(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """Broadcast a scalar i64 into every lane of a vector."""
    vec = builder.insert_element(ir.Constant(_VEC, ir.Undefined), value, ir.Constant(_I32, 0))
    zeros = ir.Constant(ir.VectorType(_I32, VECTOR_LANES), [0] * VECTOR_LANES)
    return builder.shuffle_vector(vec, ir.Constant(_VEC, ir.Undefined), zeros)


def _as_i64(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    width: int = value.type.width
    if width < 64:
        return builder.sext(value, _I64)
    return value


@intrinsic
def _popcount64(typingctx: Any, x: Any) -> Any:
    """Number of set bits of an integer, as ``llvm.ctpop`` (a ``popcnt`` where the CPU has one)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        return builder.ctpop(args[0])

    return x(x), codegen


@intrinsic
def _lowest_set_bit(typingctx: Any, x: Any) -> Any:
    """Index of the lowest set bit of a nonzero ``uint64`` (``tzcnt``), to walk hit masks."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        value = builder.zext(args[0], _I64) if args[0].type.width < 64 else args[0]
        return builder.cttz(value, ir.Constant(ir.IntType(1), 1))

    return types.int64(x), codegen


@intrinsic
def _atomic_fetch_add(typingctx: Any, counter: Any, increment: Any) -> Any:
    """Atomically add ``increment`` to ``counter[0]`` and return the old value.

    Threads take work items from a shared counter, so a thread slowed down by a noisy
    neighbour simply takes fewer of them.
    """
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None
    if not isinstance(increment, types.Integer):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        array = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", array.data, _as_i64(builder, args[1]), "seq_cst")

    return types.int64(counter, increment), codegen


#: Number of places where the tile loop may stop early: after W/4 and W/2 words. A third
#: check at 3W/4 measured no faster on random or encoded filters at 0.7-0.9.
CHECKPOINTS = 2
#: ``out[STAGE_SLOT]`` tells where :func:`tile_intersections` stopped: 0 or 1 for a
#: checkpoint that proved no lane can pass, ``CHECKPOINTS`` when all words were counted.
STAGE_SLOT = TILE_ROWS


#: Checkpoint positions as right shifts of the word count: ``W >> 2`` and ``W >> 1``.
_CHECKPOINT_SHIFTS = (2, 1)


def checkpoint_words(n_words: int) -> tuple[int, ...]:
    """Word counts after which :func:`tile_intersections` may check its bound (W/4, W/2)."""
    return tuple(n_words >> shift for shift in _CHECKPOINT_SHIFTS)


def _ptr(builder: ir.IRBuilder, base: ir.Value, offset: ir.Value) -> ir.Value:
    return builder.bitcast(builder.gep(base, [offset]), _VEC.as_pointer())


@intrinsic
def _tile_intersections(
    typingctx: Any,
    rows: Any,
    row: Any,
    tiles: Any,
    tile: Any,
    need: Any,
    out: Any,
    rest_a: Any,
    rest_b: Any,
    checks: Any,
) -> Any:
    """AND-popcount of ``rows[row]`` with the 32 filters of ``tiles[tile]``.

    Writes the 32 intersection sizes to ``out[:32]`` and returns a ``uint64`` bit mask of the
    lanes whose intersection is at least ``need``, so the caller looks at no lane of a tile
    without a hit. ``rows`` is ``(n, W)`` uint64, ``tiles`` ``(t, W, 32)`` uint64, both
    C-contiguous; ``out`` a contiguous int64 array of at least 33 elements. No bounds checks:
    the caller owns the indices.

    Early exit: after ``checkpoint_words(W)[s]`` words, with bit ``s`` of ``checks`` set, the
    partial count plus ``min(rest_a[row, s], rest_b[tile, s, lane])`` (the popcounts of the
    words still to come) bounds each lane's final intersection. When no lane's bound reaches
    ``need`` the tile cannot produce a candidate: the loop stops and returns 0 (``out[:32]``
    is then not written). ``out[32]`` records the stage reached (see ``STAGE_SLOT``), so the
    caller can switch off checkpoints that do not pay for themselves on its data.
    """
    arrays_ok = (
        isinstance(rows, types.Array)
        and rows.ndim == 2
        and rows.dtype == types.uint64
        and isinstance(tiles, types.Array)
        and tiles.ndim == 3
        and tiles.dtype == types.uint64
        and isinstance(out, types.Array)
        and out.dtype == types.int64
        and isinstance(rest_a, types.Array)
        and rest_a.ndim == 2
        and rest_a.dtype == types.int64
        and isinstance(rest_b, types.Array)
        and rest_b.ndim == 3
        and rest_b.dtype == types.int64
    )
    if not arrays_ok:
        return None
    sig = types.uint64(rows, row, tiles, tile, need, out, rest_a, rest_b, checks)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> ir.Value:
        rows_arr = context.make_array(signature.args[0])(context, builder, args[0])
        tiles_arr = context.make_array(signature.args[2])(context, builder, args[2])
        out_arr = context.make_array(signature.args[5])(context, builder, args[5])
        rest_a_arr = context.make_array(signature.args[6])(context, builder, args[6])
        rest_b_arr = context.make_array(signature.args[7])(context, builder, args[7])
        row_i = _as_i64(builder, args[1])
        tile_i = _as_i64(builder, args[3])
        need_vec = _splat(builder, _as_i64(builder, args[4]))
        checks_i = _as_i64(builder, args[8])
        n_words = builder.extract_value(rows_arr.shape, 1)
        ctpop = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VEC, [_VEC]), f"llvm.ctpop.v{VECTOR_LANES}i64"
        )
        zero = ir.Constant(_VEC, None)
        accumulators = [cgutils.alloca_once_value(builder, zero) for _ in range(VECTORS_PER_TILE)]
        result = cgutils.alloca_once_value(builder, ir.Constant(_I64, 0))
        row_base = builder.gep(rows_arr.data, [builder.mul(row_i, n_words)])
        tile_words = builder.mul(n_words, ir.Constant(_I64, TILE_ROWS))
        tile_base = builder.gep(tiles_arr.data, [builder.mul(tile_i, tile_words)])
        stage_ptr = builder.gep(out_arr.data, [ir.Constant(_I64, STAGE_SLOT)])
        done = builder.append_basic_block("tile.done")

        def count_words(start: ir.Value, stop: ir.Value) -> None:
            one = ir.Constant(_I64, 1)
            with cgutils.for_range_slice(builder, start, stop, one) as (index, _):
                word = _splat(builder, builder.load(builder.gep(row_base, [index])))
                line = builder.gep(tile_base, [builder.mul(index, ir.Constant(_I64, TILE_ROWS))])
                for k, accumulator in enumerate(accumulators):
                    lanes = builder.load(
                        _ptr(builder, line, ir.Constant(_I64, VECTOR_LANES * k)), align=8
                    )
                    count = builder.call(ctpop, [builder.and_(lanes, word)])
                    builder.store(builder.add(builder.load(accumulator), count), accumulator)

        def checkpoint(stage: int) -> None:
            enabled = builder.icmp_unsigned(
                "!=", builder.and_(checks_i, ir.Constant(_I64, 1 << stage)), ir.Constant(_I64, 0)
            )
            with builder.if_then(enabled):
                rest_row = builder.load(
                    builder.gep(rest_a_arr.data, [builder.add(
                        builder.mul(row_i, ir.Constant(_I64, CHECKPOINTS)), ir.Constant(_I64, stage)
                    )])
                )  # fmt: skip
                rest_row_vec = _splat(builder, rest_row)
                rest_base = builder.add(
                    builder.mul(tile_i, ir.Constant(_I64, CHECKPOINTS * TILE_ROWS)),
                    ir.Constant(_I64, stage * TILE_ROWS),
                )
                reachable: ir.Value | None = None
                for k, accumulator in enumerate(accumulators):
                    offset = builder.add(rest_base, ir.Constant(_I64, VECTOR_LANES * k))
                    rest_lanes = builder.load(_ptr(builder, rest_b_arr.data, offset), align=8)
                    smaller = builder.select(
                        builder.icmp_signed("<", rest_lanes, rest_row_vec), rest_lanes, rest_row_vec
                    )
                    bound = builder.add(builder.load(accumulator), smaller)
                    hits = builder.icmp_signed(">=", bound, need_vec)
                    reachable = hits if reachable is None else builder.or_(reachable, hits)
                bits = builder.bitcast(reachable, ir.IntType(VECTOR_LANES))
                hopeless = builder.icmp_unsigned(
                    "==", bits, ir.Constant(ir.IntType(VECTOR_LANES), 0)
                )
                with builder.if_then(hopeless):
                    builder.store(ir.Constant(_I64, stage), stage_ptr)
                    builder.branch(done)

        # With every checkpoint off, one unsplit word loop: 5% quicker than the split one.
        no_checks = builder.icmp_unsigned("==", checks_i, ir.Constant(_I64, 0))
        with builder.if_else(no_checks) as (plain, staged):
            with plain:
                count_words(ir.Constant(_I64, 0), n_words)
            with staged:
                start: ir.Value = ir.Constant(_I64, 0)
                for stage, shift in enumerate(_CHECKPOINT_SHIFTS):
                    stop = builder.ashr(n_words, ir.Constant(_I64, shift))
                    count_words(start, stop)
                    checkpoint(stage)
                    start = stop
                count_words(start, n_words)
        mask: ir.Value = ir.Constant(_I64, 0)
        for k, accumulator in enumerate(accumulators):
            total = builder.load(accumulator)
            pointer = _ptr(builder, out_arr.data, ir.Constant(_I64, VECTOR_LANES * k))
            builder.store(total, pointer, align=8)
            hits = builder.icmp_signed(">=", total, need_vec)
            bits = builder.zext(builder.bitcast(hits, ir.IntType(VECTOR_LANES)), _I64)
            mask = builder.or_(mask, builder.shl(bits, ir.Constant(_I64, VECTOR_LANES * k)))
        builder.store(ir.Constant(_I64, CHECKPOINTS), stage_ptr)
        builder.store(mask, result)
        builder.branch(done)
        builder.position_at_end(done)
        return builder.load(result)

    return sig, codegen


# The intrinsics under their public names, typed for callers: mypy cannot see through
# numba's ``intrinsic`` decorator (it would ask for the ``typingctx`` argument).
popcount64: Callable[..., Any] = _popcount64
lowest_set_bit: Callable[..., Any] = _lowest_set_bit
atomic_fetch_add: Callable[..., Any] = _atomic_fetch_add
tile_intersections: Callable[..., Any] = _tile_intersections


def aligned_zeros(
    shape: tuple[int, ...], alignment: int = TILE_ALIGNMENT
) -> npt.NDArray[np.uint64]:
    """Zeroed C-contiguous ``uint64`` array whose data starts on an ``alignment``-byte boundary."""
    size = int(np.prod(shape, dtype=np.int64))
    spare = alignment // 8
    raw = np.zeros(size + spare, dtype=np.uint64)
    offset = (-raw.ctypes.data % alignment) // 8
    out: npt.NDArray[np.uint64] = raw[offset : offset + size].reshape(shape)
    return out


def _probe_tile(
    rows: npt.NDArray[np.uint64],
    tiles: npt.NDArray[np.uint64],
    out: npt.NDArray[np.int64],
    rest_a: npt.NDArray[np.int64],
    rest_b: npt.NDArray[np.int64],
) -> int:
    return int(tile_intersections(rows, 0, tiles, 0, 1, out, rest_a, rest_b, 3))


def _probe_scalar(x: np.uint64) -> int:
    return int(popcount64(x))


def _register_class(register: str) -> str:
    """``zmm``/``ymm``/``xmm`` say the vector width; any general-purpose register is ``gpr``."""
    return register if register[:3] in ("zmm", "ymm", "xmm") or register[:1] == "v" else "gpr"


def popcount_instructions() -> dict[str, list[str]]:
    """Popcount instructions LLVM emits on this machine for the tile loop and a scalar word.

    Compiles two tiny uncached probes with the very intrinsics the kernel uses and greps the
    assembly, so a benchmark or test can show which path is live (``vpopcntq`` with AVX-512
    VPOPCNTDQ, ``popcnt`` for scalars, none where LLVM expands to bit arithmetic).
    """
    rows = np.zeros((1, 16), dtype=np.uint64)
    tiles = aligned_zeros((1, 16, TILE_ROWS))
    out = np.zeros(TILE_ROWS + 1, dtype=np.int64)
    rest_a = np.zeros((1, CHECKPOINTS), dtype=np.int64)
    rest_b = np.zeros((1, CHECKPOINTS, TILE_ROWS), dtype=np.int64)
    tile_probe = numba.njit(nogil=True)(_probe_tile)
    tile_probe(rows, tiles, out, rest_a, rest_b)
    scalar_probe = numba.njit(nogil=True)(_probe_scalar)
    scalar_probe(np.uint64(3))
    pattern = re.compile(r"^\s*(v?popcnt[a-z]*|cnt)\s+%?([a-z]+)", re.MULTILINE)
    found: dict[str, list[str]] = {}
    for name, probe in (("tile", tile_probe), ("scalar", scalar_probe)):
        asm = probe.inspect_asm(probe.signatures[0])
        found[name] = sorted(
            {f"{m.group(1)} {_register_class(m.group(2))}" for m in pattern.finditer(asm)}
        )
    return found
