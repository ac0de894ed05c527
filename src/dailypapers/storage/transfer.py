"""Copy a SQLite database into PostgreSQL, and compare two databases table by table.

``copy_database(source, target)`` is what ``dailypapers migrate-data`` runs. It copies every table
both schemas hold (papers, listings, users, sessions, API tokens, votes, comments, the curator log,
subscriptions, the digest send log, embeddings, arrival scores, rules and triage, collections and
reading states, saved searches with their alert log and feed tokens, follows and For you
corrections, the state rows
that are not per-database counters), parents before children, keeping every id and seq:

* **Resumable.** Each table is read in SQLite's rowid order and written in batches; each batch goes
  in by COPY in one PostgreSQL transaction together with its checkpoint (``migrate_data:<table>``
  = the last rowid copied) in the target's ``state`` table. A copy stopped anywhere (Ctrl-C, a
  kill, a lost connection) continues after the last committed batch when run again.
* **Only into an empty target, or the same copy.** Before the first batch the target records
  where the copy comes from (``migrate_data:source``); a target that holds other rows, or part
  of a copy of another file, is refused. Stop the site and its jobs first: rows written to the
  source during the copy may be missed, and the checks at the end would show it.
* **Ids and sequences.** Ids, papers' and embeddings' seqs and the votes' order (SQLite's rowid,
  PostgreSQL's ``votes.id``) are copied as they are; then every identity column and the
  ``paper_seq`` and ``embedding_seq`` sequences are set past the largest copied value, so new rows
  continue the numbering. A node's search index built on the SQLite database stays valid.

``compare(a, b)`` counts the rows of every table on both sides and checksums them: each row is
normalized to one text form (by the PostgreSQL column type: times as UTC ISO 8601, booleans as
t/f, JSON re-serialized with sorted keys, bytes as hex, floats by repr), hashed, and the hashes
are summed modulo 2**128. The sum needs no common sort order, so SQLite's and PostgreSQL's
collations cannot make equal tables differ. It also compares two PostgreSQL databases (a backup
and its restore).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from dailypapers.storage.errors import StorageError
from dailypapers.storage.postgres import PostgresStore
from dailypapers.storage.rows import parse_ts
from dailypapers.storage.sqlite import SQLiteStore

BATCH = 5000
PREFIX = "migrate_data:"
SOURCE_KEY = PREFIX + "source"
FINISHED_KEY = PREFIX + "finished"
# Never copied: the schema bookkeeping (each backend has its own migrations) and rate-limit
# events (a sliding window of the last minutes; SQLite keeps them in a file beside the database).
SKIP_TABLES = frozenset({"schema_migrations", "rate_events"})
# State rows that belong to one database: its content version, and this copy's own checkpoints.
STATE_FILTER = f"key <> 'content_version' AND substr(key, 1, {len(PREFIX)}) <> '{PREFIX}'"
# Target columns SQLite holds under another name: the votes' insertion order is SQLite's rowid.
SOURCE_ALIASES = {("votes", "id"): "rowid"}
# Sequences no column owns, and the column whose largest value they must pass.
FREE_SEQUENCES = {"paper_seq": ("papers", "seq"), "embedding_seq": ("embeddings", "seq")}
_MOD = 2**128


@dataclass(frozen=True)
class Table:
    """One table as it is copied and checksummed: target columns, their PostgreSQL types, and the
    expression that reads each from the source (the column itself, or an alias such as rowid)."""

    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    source: tuple[str, ...]
    where: str = ""


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


@dataclass(frozen=True)
class Comparison:
    table: str
    source: TableSum
    target: TableSum

    @property
    def same(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class CopyResult:
    finished: bool  # False: stopped after max_batches; run again to continue
    resumed: bool  # the target already held part of this copy
    copied: dict[str, int]  # rows copied by this run, per table


Progress = Callable[[str, int], None]


# -- layout ----------------------------------------------------------------------------------
def pg_tables(pg: PostgresStore) -> list[Table]:
    """The target's tables, parents before the tables that reference them, with their columns."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in pg.read(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        if table not in SKIP_TABLES:
            columns.setdefault(table, []).append((column, kind))
    parents: dict[str, set[str]] = {t: set() for t in columns}
    for child, parent in pg.read(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"
    ):
        if child in parents and parent in columns and parent != child:
            parents[child].add(parent)
    ordered: list[str] = []
    while len(ordered) < len(columns):
        ready = sorted(t for t in columns if t not in ordered and parents[t] <= set(ordered))
        if not ready:
            raise StorageError("the target's foreign keys form a cycle: cannot order the copy")
        ordered.extend(ready)
    return [
        Table(t, tuple(c for c, _ in columns[t]), tuple(k for _, k in columns[t]), tuple(c for c, _ in columns[t]),
              STATE_FILTER if t == "state" else "")
        for t in ordered
    ]


def _sqlite_columns(store: SQLiteStore, table: str) -> list[str]:
    return [r[1] for r in store.read(f"PRAGMA table_info({table})")]


def plan(source: SQLiteStore, target: PostgresStore) -> list[Table]:
    """The tables to copy from source to target, in order: every target table the source holds.

    A source column the target lacks is an error (its data would be lost); a target column the
    source lacks keeps its default and is left out of the checksums."""
    tables = []
    source_tables = {r[0] for r in source.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(source_tables - SKIP_TABLES - {t.name for t in pg_tables(target)} - {"sqlite_sequence"})
    if missing:
        raise StorageError(f"the target has no table {', '.join(missing)}: is it at the same schema as the source?")
    for table in pg_tables(target):
        if table.name not in source_tables:
            continue
        have = _sqlite_columns(source, table.name)
        lost = [c for c in have if c not in table.columns]
        if lost:
            raise StorageError(f"the target's {table.name} has no column {', '.join(lost)}: is it at the same "
                               "schema as the source?")
        keep = [(c, k, SOURCE_ALIASES.get((table.name, c), c)) for c, k in zip(table.columns, table.kinds)
                if c in have or (table.name, c) in SOURCE_ALIASES]
        tables.append(Table(table.name, tuple(c for c, _, _ in keep), tuple(k for _, k, _ in keep),
                            tuple(s for _, _, s in keep), table.where))
    return tables


# -- normalized rows and checksums ---------------------------------------------------------
def normalize(kind: str, value: object) -> str:
    """One text form of a value, whichever backend it was read from (kind: the PostgreSQL type)."""
    if value is None:
        return "\\N"
    if kind == "boolean":
        return "t" if value else "f"
    if kind.startswith("timestamp"):
        when = value if isinstance(value, dt.datetime) else parse_ts(str(value))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return when.astimezone(dt.timezone.utc).isoformat()
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)).isoformat()
    if kind in ("jsonb", "json"):
        loaded = json.loads(value) if isinstance(value, str | bytes) else value
        return json.dumps(loaded, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if kind == "bytea":
        return bytes(value).hex()  # type: ignore[call-overload]
    if kind in ("double precision", "real"):
        return repr(float(value))  # type: ignore[arg-type]
    if kind in ("integer", "bigint", "smallint"):
        return str(int(value))  # type: ignore[call-overload]
    return str(value)


def _row_hash(kinds: Sequence[str], row: Sequence) -> int:
    text = "\x1f".join(normalize(k, v) for k, v in zip(kinds, row))
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(), "big")


def _sqlite_rows(store: SQLiteStore, table: Table, batch: int = BATCH) -> Iterator[tuple]:
    """Rows in rowid order, one batch per read (keyset paging: no long read transaction)."""
    where = f" AND {table.where}" if table.where else ""
    last = 0
    while True:
        rows = store.read(f"SELECT rowid, {', '.join(table.source)} FROM {table.name} WHERE rowid > ?{where} "
                          "ORDER BY rowid LIMIT ?", (last, batch))
        if not rows:
            return
        for r in rows:
            yield r[1:]
        last = rows[-1][0]


def _pg_rows(store: PostgresStore, table: Table) -> Iterator[tuple]:
    where = f" WHERE {table.where}" if table.where else ""
    cols = ", ".join(f'"{c}"' for c in table.columns)
    with store.connection() as conn, conn.transaction(), conn.cursor(name=f"dp_sum_{table.name}") as cur:
        cur.itersize = BATCH
        cur.execute(f"SELECT {cols} FROM {table.name}{where}")
        yield from cur


def table_sum(store: SQLiteStore | PostgresStore, table: Table) -> TableSum:
    rows = total = 0
    reader = _sqlite_rows(store, table) if isinstance(store, SQLiteStore) else _pg_rows(store, table)
    for row in reader:
        rows += 1
        total = (total + _row_hash(table.kinds, row)) % _MOD
    return TableSum(rows, f"{total:032x}")


def compare(source: SQLiteStore | PostgresStore, target: PostgresStore,
            tables: Sequence[Table] | None = None) -> list[Comparison]:
    """Row count and checksum of every table on both sides (the copied tables by default)."""
    if tables is None:
        tables = plan(source, target) if isinstance(source, SQLiteStore) else pg_tables(target)
    return [Comparison(t.name, table_sum(source, t), table_sum(target, t)) for t in tables]


# -- the copy ------------------------------------------------------------------------------
def source_identity(source: SQLiteStore) -> str:
    return f"sqlite:///{Path(source.path).resolve()}"


def _target_rows(target: PostgresStore, tables: Sequence[Table]) -> dict[str, int]:
    counts = {}
    for t in tables:
        where = f" WHERE {t.where}" if t.where else ""
        counts[t.name] = target.read(f"SELECT COUNT(*) FROM {t.name}{where}")[0][0]
    return counts


def prepare(source: SQLiteStore, target: PostgresStore) -> tuple[list[Table], bool]:
    """Check both schemas and the target; returns the tables to copy and whether this resumes a copy."""
    source.check_schema()
    target.migrate()
    target.check_schema()
    tables = plan(source, target)
    identity = source_identity(source)
    recorded = target.get_state(SOURCE_KEY)
    if recorded is not None and recorded != identity:
        raise StorageError(f"the target {target.where} holds a copy of {recorded}, not of {identity}: "
                           "copy into an empty database")
    if recorded is None:
        filled = {t: n for t, n in _target_rows(target, tables).items() if n}
        if filled:
            shown = ", ".join(f"{t} ({n} rows)" for t, n in list(filled.items())[:3])
            raise StorageError(f"the target {target.where} is not empty ({shown}): "
                               "migrate-data copies into an empty database")
        with target.connection() as conn:
            _set(conn, SOURCE_KEY, identity)
    return tables, recorded is not None


def _set(conn: psycopg.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO state (key, value) VALUES (%s, %s) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def _convert(kinds: Sequence[str]) -> Callable[[Sequence], tuple]:
    """SQLite values as PostgreSQL takes them: integers for flags become booleans; the rest
    (ISO 8601 text for times and days, JSON text, bytes) COPY reads as they are."""
    flags = [i for i, k in enumerate(kinds) if k == "boolean"]

    def convert(row: Sequence) -> tuple:
        if not flags:
            return tuple(row)
        out = list(row)
        for i in flags:
            if out[i] is not None:
                out[i] = bool(out[i])
        return tuple(out)

    return convert


def rows_to_copy(source: SQLiteStore, target: PostgresStore, tables: Sequence[Table]) -> tuple[int, int]:
    """(rows in the source, rows the target already holds) over the tables to copy: for a progress bar."""
    total = 0
    for t in tables:
        where = f" WHERE {t.where}" if t.where else ""
        total += source.read(f"SELECT COUNT(*) FROM {t.name}{where}")[0][0]
    return total, sum(_target_rows(target, tables).values())


def copy_tables(source: SQLiteStore, target: PostgresStore, tables: Sequence[Table], *, batch_size: int = BATCH,
                progress: Progress | None = None, max_batches: int | None = None) -> tuple[bool, dict[str, int]]:
    """Copy each table after its checkpoint, one transaction per batch; (finished, rows copied)."""
    copied: dict[str, int] = {}
    batches = 0
    for table in tables:
        key = PREFIX + table.name
        last = int(target.get_state(key) or 0)
        convert = _convert(table.kinds)
        cols = ", ".join(f'"{c}"' for c in table.columns)
        where = f" AND {table.where}" if table.where else ""
        while True:
            if max_batches is not None and batches >= max_batches:
                return False, copied
            rows = source.read(f"SELECT rowid, {', '.join(table.source)} FROM {table.name} WHERE rowid > ?{where} "
                               "ORDER BY rowid LIMIT ?", (last, batch_size))
            if not rows:
                break
            try:
                with target.connection() as conn, conn.transaction():
                    with conn.cursor().copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
                        for r in rows:
                            copy.write_row(convert(r[1:]))
                    _set(conn, key, str(rows[-1][0]))
            except psycopg.Error as e:
                raise StorageError(f"copying {table.name} after rowid {last} failed: {' '.join(str(e).split())}") \
                    from None
            last = rows[-1][0]
            batches += 1
            copied[table.name] = copied.get(table.name, 0) + len(rows)
            if progress is not None:
                progress(table.name, len(rows))
    return True, copied


def reset_sequences(target: PostgresStore) -> None:
    """Every identity column's sequence and the free sequences (paper_seq, embedding_seq) continue
    after the largest value in their column."""
    owned = target.read(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND is_identity = 'YES'"
    )
    with target.connection() as conn, conn.transaction():
        for table, column in owned:
            conn.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({column}), 0) + 1, false) "
                         f"FROM {table}", (table, column))
        for sequence, (table, column) in FREE_SEQUENCES.items():
            conn.execute(f"SELECT setval(%s, COALESCE(MAX({column}), 0) + 1, false) FROM {table}", (sequence,))


def finish(target: PostgresStore) -> None:
    """After the last batch: sequences past the copied values, and the copy marked finished."""
    reset_sequences(target)
    with target.connection() as conn:
        _set(conn, FINISHED_KEY, dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat())


def copy_database(source: SQLiteStore, target: PostgresStore, *, batch_size: int = BATCH,
                  progress: Progress | None = None, max_batches: int | None = None) -> CopyResult:
    """Copy (or continue copying) source into target; see the module docstring. With
    ``max_batches`` it stops after that many batches (``finished`` False), as an interrupted run would."""
    tables, resumed = prepare(source, target)
    finished, copied = copy_tables(source, target, tables, batch_size=batch_size, progress=progress,
                                   max_batches=max_batches)
    if finished:
        finish(target)
    return CopyResult(finished, resumed, copied)


def format_comparison(rows: Sequence[Comparison]) -> str:
    """The per-table report migrate-data prints."""
    lines = [f"{'table':<20}{'source rows':>12}{'target rows':>12}  {'source checksum':<18}{'target checksum':<18}"]
    for c in rows:
        lines.append(f"{c.table:<20}{c.source.rows:>12}{c.target.rows:>12}  {c.source.checksum[:16]:<18}"
                     f"{c.target.checksum[:16]:<18}{'ok' if c.same else 'DIFFERENT'}")
    return "\n".join(lines)


__all__ = [
    "BATCH", "Comparison", "CopyResult", "Table", "TableSum", "compare", "copy_database", "copy_tables",
    "finish", "format_comparison", "normalize", "pg_tables", "plan", "prepare", "reset_sequences", "rows_to_copy",
    "table_sum",
]
