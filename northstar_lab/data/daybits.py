"""A user's active days as bits: 62 days to one 64-bit integer, in the engine and in NumPy.

Churn needs every user's distinct active days (METHODS §1). At 125M events that is 49M
(user, day) pairs; kept as one cell each, they made the engine's group-by 70M groups and its
later queries and transfers as long. A block of BLOCK days per user is one integer instead:
bit i set when day block·BLOCK + i was active, ORed in the engine's group-by (`bit_or`, which
DuckDB and Spark both have). Blocks leave the engine as (uid, block, bits) and become the
sorted day keys of `aggregate.churn_from_days` here, without a sort of the days.

BLOCK is 62, not 64: the highest bit stays clear of the sign, and the one-bit value is written
as a right shift of the literal 2⁶¹ — a BIGINT on every engine (Spark types a literal 1 as a
32-bit INT, and would shift it modulo 32).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import numpy as np

BLOCK = 62  # days per block (bits 0..61 of an int64)

# The kinds of `logcells.cells` (its `kind` column). In DAYS and WINDOW cells the slot is a
# day block; in REVENUE cells it is the day itself; the left-out kinds have no days.
DAYS, WINDOW, REVENUE, BEFORE_SIGNUP, AFTER_AS_OF = 0, 1, 2, 3, 4
DAY_BITS = 20  # days since signup fit in 20 bits (2,870 years) of a sorted key row·2²⁰ + day


@ibis.udf.agg.builtin(name="bit_or")
def bit_or(x: dt.int64) -> dt.int64:
    """The bitwise OR of a group's values (DuckDB and Spark SQL `bit_or`)."""


@ibis.udf.scalar.builtin(name="bit_count")
def bit_count(x: dt.int64) -> dt.int64:
    """The number of set bits (DuckDB and Spark SQL `bit_count`)."""


def day_bit(d: ibis.Value) -> ibis.Value:
    """The bit of day d (≥ 0) in its block: 2^(d mod BLOCK), as a BIGINT on every engine."""
    top = ibis.literal(1 << (BLOCK - 1), "int64")
    return top >> (BLOCK - 1 - d % BLOCK)


def block_of(d: ibis.Value) -> ibis.Value:
    """The block of day d (≥ 0)."""
    return (d // BLOCK).cast("int64")


def day_blocks(kept_cells: ibis.Table) -> ibis.Table:
    """(uid, block, bits): each user's active days, one row per day block, from the cells that
    count (any kind, any event)."""
    c = kept_cells
    block = (c.kind == REVENUE).ifelse(block_of(c.slot), c.slot)
    c = c.select(uid=c.uid, block=block, bits=c.bits)
    return c.group_by(["uid", "block"]).aggregate(bits=bit_or(c.bits))


def popcount(bits: np.ndarray) -> np.ndarray:
    """Set bits of each int64 (days in each block)."""
    return np.bitwise_count(np.ascontiguousarray(bits, dtype=np.int64).view(np.uint64))


def day_keys(rows: np.ndarray, blocks: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Sorted distinct keys row·2²⁰ + day from (row, block, bits) with one entry per
    (row, block): the blocks in (row, block) order, then each block's set bits lowest first,
    so the keys come out sorted without sorting the days. The bits are peeled one per pass
    (x & −x), each pass over the blocks that still have some: as many passes as the fullest
    block has days, and work in proportion to the days."""
    rows = np.asarray(rows, dtype=np.int64)
    blocks = np.asarray(blocks, dtype=np.int64)
    words = np.asarray(bits, dtype=np.int64)
    order_key = (rows << DAY_BITS) | blocks
    if order_key.size and not np.all(order_key[1:] > order_key[:-1]):
        order = np.argsort(order_key, kind="stable")
        order_key, words = order_key[order], words[order]
    del rows, blocks
    counts = popcount(words)
    out = np.empty(int(counts.sum()), dtype=np.int64)
    place = np.cumsum(counts) - counts  # where each block's first day goes
    base = (order_key >> DAY_BITS << DAY_BITS) | ((order_key & ((1 << DAY_BITS) - 1)) * BLOCK)
    left = np.flatnonzero(words)
    x = words[left]
    while left.size:
        low = x & -x
        out[place[left]] = base[left] + popcount(low - 1)  # the bit's position: its day
        place[left] += 1
        x ^= low
        more = x != 0
        left, x = left[more], x[more]
    return out


def days_in_engine(blocks: ibis.Table) -> ibis.Table:
    """(uid, d): one row per active day, from a table of (uid, block, bits) — the engine's
    own unpacking, for the per-user expression that stays in the engine."""
    offsets = ibis.memtable({"bit": np.arange(BLOCK, dtype=np.int64)})
    pairs = blocks.cross_join(offsets)
    pairs = pairs.filter(((pairs.bits >> pairs.bit) & 1) == 1)
    return pairs.select(uid=pairs.uid, d=pairs.block * BLOCK + pairs.bit)
