"""Free-text search of the incident list: which index the database has, and the SQL condition.

The meaning is fixed whatever the index: the lower-cased term is a substring of the incident's lower-cased
search text (``search_text LIKE '%term%'`` with ``%``, ``_`` and ``\\`` escaped), so an index only narrows the
rows the LIKE checks. On SQLite with the FTS5 trigram table of migration 0002 a rare term of 3 characters or
more is first matched as an FTS5 phrase (every 3-character window of the term, in a row: a superset of the
LIKE matches; `fts5_candidates` decides per term); common or shorter terms and databases without the table scan
with LIKE. On PostgreSQL the query is the plain LIKE and the planner picks the pg_trgm GIN index (created by
migration 0002 when the extension is available) by its statistics. No ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from aiops.store.schema import incidents

SearchIndex = Literal["fts5", "pg_trgm", "none"]
TRIGRAM = 3
"""Characters per trigram: an FTS5 trigram phrase needs at least this many."""
FTS5_MAX_CANDIDATES = 1000
"""Above this many FTS5 candidates the LIKE scan is cheaper (at 100,000 incidents: bench/api.py)."""

_search_metadata = MetaData()  # not `schema.metadata`: these exist only where migration 0002 made them
search_rows = Table("incident_search_rows", _search_metadata,
                    Column("row_id", Integer, primary_key=True), Column("incident_id", String(), nullable=False))
search_fts = Table("incident_search", _search_metadata, Column("rowid", Integer, primary_key=True))
SEARCH_INDEX_NAMES = frozenset({"incident_search", "incident_search_rows", "ix_incidents_search_trgm"})
"""Objects of the search index, outside `aiops.store.schema` (the migration check leaves them out)."""


def is_search_index_object(name: str | None) -> bool:
    """True for the search index's tables (FTS5 shadow tables included) and index."""
    return name is not None and (name in SEARCH_INDEX_NAMES or name.startswith("incident_search_"))


def detect_search_index(connection: Connection) -> SearchIndex:
    """The search index this database has (migration 0002 creates one when the backend supports it)."""
    if connection.dialect.name == "sqlite":
        found = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incident_search'").first()
        return "fts5" if found else "none"
    found = connection.exec_driver_sql(
        "SELECT 1 FROM pg_indexes WHERE tablename = 'incidents' AND indexname = 'ix_incidents_search_trgm'").first()
    return "pg_trgm" if found else "none"


def like_pattern(text: str) -> str:
    """``%term%`` for LIKE with ``\\`` as the escape character, the term lower-cased."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts5_phrase(text: str) -> str:
    """The term as one FTS5 phrase (a string in double quotes, inner quotes doubled)."""
    return '"' + text.lower().replace('"', '""') + '"'


async def fts5_candidates(connection: AsyncConnection, text: str, index: SearchIndex,
                          cap: int = FTS5_MAX_CANDIDATES) -> list[str] | None:
    """Ids of the incidents the FTS5 table finds for `text`, or None when the search should not be narrowed
    by it: no FTS5 table, a term under 3 characters, or `cap` candidates or more (a common term is found
    sooner by the LIKE scan along the page order, which stops at the page's last row, than by fetching and
    sorting every candidate). Read just before the page's query, not in the same snapshot: an incident
    written in between may be missed by this page (as by a page read a moment earlier)."""
    if index != "fts5" or len(text.lower()) < TRIGRAM:
        return None
    matching = select(search_fts.c.rowid).where(
        literal_column("incident_search").op("MATCH")(fts5_phrase(text))).limit(cap)
    found = (await connection.execute(
        select(search_rows.c.incident_id).where(search_rows.c.row_id.in_(matching.scalar_subquery())))).scalars()
    ids = list(found)
    return ids if len(ids) < cap else None


def text_condition(text: str, candidates: Sequence[str] | None) -> ColumnElement[bool]:
    """Incidents whose search text contains `text` (case-insensitive), among `candidates` when given (the
    FTS5 table's superset of the answer, `fts5_candidates`)."""
    like = incidents.c.search_text.like(like_pattern(text), escape="\\")
    return like if candidates is None else and_(incidents.c.id.in_(candidates), like)
