"""The catalogue's SQLite schema, built with sqlite-utils, and the connection it is used through.

Tables
  sources         where manifests come from, and each source's crawl state
  servers         one row per server, by canonical name; status active|deprecated|deleted|unlisted
                  (unlisted: every source that listed it has stopped listing it)
  server_sources  each source's record of a server (provenance), under the source's own name for it
  server_aliases  identity keys (registry name, package, repository) -> server: one server across sources
  tools           the current definition of every tool ever seen, with a hash of it and a
                  pointer to its current classification (category and risk copied beside it)
  tool_history    a row whenever a tool is added, its definition changes, or it disappears
  classifications category, risk, flags, confidence and evidence per (tool, hash, classifier version)
  crawl_runs      every crawl: start, end, source, counts, pages, 304s, errors, status
  server_grades   a row whenever a server's grade (A-F), reasons or toxic flows change (catalogue.grading);
                  the current one is copied onto servers (grade, grade_reasons, grade_flows, toxic_flows)
Views
  tool_catalogue  tools joined with their server and current classification, for people and queries
  tools_by_risk   the listed tools riskiest first, with their top evidence: what Datasette leads with

`tools.last_seen` stays NULL while a tool is still listed (it was then seen at its source's last
crawl, `sources.last_success_at`), so re-crawling unchanged data rewrites no row.
"""

import contextlib
import os
import re
import sqlite3

SCHEMA_VERSION = 6
BUSY_TIMEOUT_S = 30


class CatalogueError(Exception):
    """A request the catalogue cannot satisfy (unknown server, unreadable database); says why."""


def json_object(text):
    """A JSON object stored in a column, or {} for NULL, bad JSON or anything not an object."""
    import json

    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class Catalogue:
    """An open catalogue: its sqlite3 connection and the little that queries need besides.

    sqlite-utils builds and upgrades the schema, but it imports pandas and numpy whenever they
    are installed (half a second), so everyday commands talk to SQLite directly.
    """

    def __init__(self, conn, path):
        self.conn = conn
        self.path = path

    def execute(self, sql, parameters=()):
        return self.conn.execute(sql, parameters)

    def close(self):
        self.conn.close()

    @staticmethod
    def quote_fts(text):
        """Free text as an FTS5 query of quoted words: no operator or column syntax gets through."""
        words = re.findall(r"[^\s\"\x00]+", text)  # FTS5 cannot take a NUL even inside quotes
        return " ".join(f'"{word}"' for word in words) or '""'


def open_catalogue(path, *, create=True):
    """Open (and create or migrate) the catalogue at `path`."""
    path = os.fspath(path)
    if not create and path != ":memory:" and not os.path.exists(path):
        raise CatalogueError(f"no catalogue at {path}: run `mcp-risk crawl snapshot` first, or pass --db")
    if not create and path != ":memory:" and os.path.isfile(path) and os.path.getsize(path) == 0:
        # SQLite would take it as a new database and a reading command would write a schema into it.
        raise CatalogueError(f"{path} is an empty file, not a catalogue: crawl into it first, or pass --db")
    try:
        # isolation_level=None: transactions are explicit (see `transaction`), never implicit.
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _ensure_schema(conn)
    except sqlite3.DatabaseError as error:
        raise CatalogueError(f"{path}: not a usable catalogue ({error})") from None
    return Catalogue(conn, path)


@contextlib.contextmanager
def transaction(db):
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error.

    IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout instead of
    one failing with "database is locked" when it upgrades a read lock.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def _sqlite_utils():
    """sqlite-utils, imported without pandas and numpy: it loads them only to map their types,
    which the catalogue never stores, and they would cost half a second of every crawl and scan."""
    import sys

    if "sqlite_utils" in sys.modules:
        return sys.modules["sqlite_utils"]
    blocked = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # makes `import pandas` raise ImportError, just for this import
    try:
        import sqlite_utils
    finally:
        for name in blocked:
            del sys.modules[name]
    return sqlite_utils


def _ensure_schema(conn):
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    db = _sqlite_utils().Database(conn)
    if version > SCHEMA_VERSION:
        raise CatalogueError(f"catalogue schema {version} is newer than this mcp-risk ({SCHEMA_VERSION}): upgrade mcp-risk")
    # Every step is idempotent (IF NOT EXISTS, columns added only when missing), so a crash or a
    # concurrent first open is harmless, and a catalogue of any older version upgrades in place.
    _create(db)
    _upgrade(db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


_V2_RUN_DEFAULTS = {"pages": 0, "not_modified": 0, "servers_added": 0, "servers_status_changed": 0}


def _upgrade(db):
    """Bring tables made by an older mcp-risk up to this schema (versions 1 to 5 -> 6)."""
    _add_column(db, "servers", "status", str, "active")
    _add_column(db, "servers", "source_id", int, None)  # the source whose title and description it shows
    _add_column(db, "server_sources", "source_name", str, None)
    _add_column(db, "server_sources", "unlisted_since", str, None)  # 3 -> 4: a complete listing lacks it
    _add_column(db, "crawl_runs", "message", str, None)  # 3 -> 4: why a run was skipped
    for column, default in _V2_RUN_DEFAULTS.items():
        _add_column(db, "crawl_runs", column, int, default)
    # Until now a source's name for a server was the server's name.
    db.execute("UPDATE server_sources SET source_name = (SELECT name FROM servers WHERE id = server_id) "
               "WHERE source_name IS NULL")
    db.execute("UPDATE servers SET source_id = (SELECT min(source_id) FROM server_sources WHERE server_id = servers.id) "
               "WHERE source_id IS NULL")
    db["server_sources"].create_index(["source_id", "source_name"], if_not_exists=True)
    # 2 -> 3: each tool points at its current classification, so filters and joins need no subquery.
    for column, kind in (("classification_id", int), ("category", str), ("risk", str)):
        _add_column(db, "tools", column, kind, None)
    db.execute(
        "UPDATE tools SET classification_id = (SELECT max(id) FROM classifications c "
        "WHERE c.tool_id = tools.id AND c.tool_hash = tools.hash) WHERE classification_id IS NULL")
    db.execute(
        "UPDATE tools SET (category, risk) = (SELECT category, risk FROM classifications c WHERE c.id = tools.classification_id) "
        "WHERE classification_id IS NOT NULL AND category IS NULL")
    # 5 -> 6: the confidence beside the category, so a category lists its surest tools first from
    # an index (LIMIT stops early) rather than sorting every tool of it.
    _add_column(db, "tools", "confidence", float, None)
    db.execute("UPDATE tools SET confidence = (SELECT confidence FROM classifications c WHERE c.id = tools.classification_id) "
               "WHERE classification_id IS NOT NULL AND confidence IS NULL")
    db["tools"].create_index(["category", "confidence"], if_not_exists=True)
    db.execute("DROP INDEX IF EXISTS idx_tools_category")  # 3's, served by the one above
    _full_text_index(db)
    # 4 -> 5: a grade per server, from the tools already classified.
    for column, kind in _GRADE_COLUMNS:
        _add_column(db, "servers", column, kind, None)
    _grade_table(db)
    if db.execute("SELECT 1 FROM servers WHERE grade IS NULL LIMIT 1").fetchone():
        from .grading import regrade
        from .store import utc_now

        regrade(_Plain(db.conn), [sid for (sid,) in db.execute("SELECT id FROM servers WHERE grade IS NULL")],
                now=utc_now())


_GRADE_COLUMNS = (("grade", str), ("grade_reasons", str), ("grade_flows", str), ("toxic_flows", int),
                  ("graded_with", str))


class _Plain:
    """What catalogue.grading needs of a Catalogue, over a bare connection (during a migration)."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql, parameters=()):
        return self.conn.execute(sql, parameters)


def _grade_table(db):
    db["server_grades"].create(
        {"id": int, "server_id": int, "grade": str, "grade_before": str, "reasons": str, "flows": str,
         "classifier_version": str, "seen_at": str, "crawl_run_id": int},
        pk="id", foreign_keys=[("server_id", "servers", "id"), ("crawl_run_id", "crawl_runs", "id")],
        not_null={"server_id", "grade", "seen_at"}, if_not_exists=True,
    )
    db["server_grades"].create_index(["server_id"], if_not_exists=True)
    db["servers"].create_index(["grade"], if_not_exists=True)


FTS_COLUMNS = ("name", "title", "description", "category")


def _full_text_index(db):
    """Tool names, titles and descriptions, plus the category so that a search filtered by it is
    answered inside the index. Updates re-index a row only when one of these columns changes."""
    if not db["tools_fts"].exists() or tuple(db["tools_fts"].columns_dict) != FTS_COLUMNS:
        for trigger in ("tools_ai", "tools_ad", "tools_au"):
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        db["tools"].enable_fts(list(FTS_COLUMNS), create_triggers=True, tokenize="porter", replace=True)
    columns = ", ".join(FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    db.execute("DROP TRIGGER IF EXISTS tools_au")
    db.execute(
        f"CREATE TRIGGER tools_au AFTER UPDATE OF {columns} ON tools BEGIN "
        f"INSERT INTO tools_fts (tools_fts, rowid, {columns}) VALUES('delete', old.rowid, {old}); "
        f"INSERT INTO tools_fts (rowid, {columns}) VALUES (new.rowid, {new}); END")


def _add_column(db, table, column, kind, default):
    if column in db[table].columns_dict:
        return
    try:
        db[table].add_column(column, kind, not_null_default=default)
    except sqlite3.OperationalError as error:  # another process added it first
        if "duplicate column" not in str(error):
            raise


def _create(db):
    db["sources"].create(
        {"id": int, "name": str, "kind": str, "location": str, "state": str, "last_success_at": str},
        pk="id", not_null={"name", "kind"}, if_not_exists=True,
    )
    db["sources"].create_index(["name"], unique=True, if_not_exists=True)

    db["servers"].create(
        {"id": int, "name": str, "title": str, "description": str, "tools_known": int, "first_seen": str,
         "status": str, "source_id": int, **dict(_GRADE_COLUMNS)},
        pk="id", not_null={"name", "first_seen", "status"}, defaults={"tools_known": 0, "status": "active"},
        if_not_exists=True,
    )
    db["servers"].create_index(["name"], unique=True, if_not_exists=True)

    db["server_sources"].create(
        {"server_id": int, "source_id": int, "record": str, "first_seen": str, "source_name": str,
         "unlisted_since": str},
        pk=("server_id", "source_id"),
        foreign_keys=[("server_id", "servers", "id"), ("source_id", "sources", "id")],
        not_null={"first_seen"}, if_not_exists=True,
    )

    db["tools"].create(
        {
            "id": int, "server_id": int, "name": str, "title": str, "description": str,
            "input_schema": str, "output_schema": str, "annotations": str, "hash": str,
            "status": str, "source_id": int, "first_seen": str, "last_seen": str,
            "classification_id": int, "category": str, "risk": str, "confidence": float,
        },
        pk="id",
        foreign_keys=[("server_id", "servers", "id"), ("source_id", "sources", "id")],
        not_null={"server_id", "name", "hash", "status", "first_seen"},
        defaults={"status": "listed"},
        if_not_exists=True,
    )
    db["tools"].create_index(["server_id", "name"], unique=True, if_not_exists=True)
    db["tools"].create_index(["hash"], if_not_exists=True)

    db["crawl_runs"].create(
        {
            "id": int, "source_id": int, "started_at": str, "finished_at": str, "status": str,
            "servers_seen": int, "tools_seen": int, "tools_added": int, "tools_changed": int,
            "tools_removed": int, "classified": int, "error_count": int, "errors": str,
            "pages": int, "not_modified": int, "servers_added": int, "servers_status_changed": int,
            "message": str,
        },
        pk="id",
        foreign_keys=[("source_id", "sources", "id")],
        not_null={"source_id", "started_at", "status"},
        defaults={"servers_seen": 0, "tools_seen": 0, "tools_added": 0, "tools_changed": 0,
                  "tools_removed": 0, "classified": 0, "error_count": 0, **_V2_RUN_DEFAULTS},
        if_not_exists=True,
    )
    db["crawl_runs"].create_index(["source_id"], if_not_exists=True)

    db["tool_history"].create(
        {"id": int, "tool_id": int, "change": str, "hash": str, "definition": str, "seen_at": str, "crawl_run_id": int},
        pk="id",
        foreign_keys=[("tool_id", "tools", "id"), ("crawl_run_id", "crawl_runs", "id")],
        not_null={"tool_id", "change", "hash", "seen_at"},
        if_not_exists=True,
    )
    db["tool_history"].create_index(["tool_id"], if_not_exists=True)

    db["classifications"].create(
        {
            "id": int, "tool_id": int, "tool_hash": str, "classifier_version": str, "category": str,
            "risk": str, "flags": str, "confidence": float, "evidence": str, "classified_at": str,
        },
        pk="id",
        foreign_keys=[("tool_id", "tools", "id")],
        not_null={"tool_id", "tool_hash", "classifier_version", "category", "risk", "confidence", "classified_at"},
        if_not_exists=True,
    )
    db["classifications"].create_index(["tool_id", "tool_hash", "classifier_version"], unique=True, if_not_exists=True)
    db["classifications"].create_index(["category"], if_not_exists=True)

    db["server_aliases"].create(
        {"kind": str, "value": str, "server_id": int, "source_id": int, "first_seen": str},
        pk=("kind", "value"),
        foreign_keys=[("server_id", "servers", "id"), ("source_id", "sources", "id")],
        not_null={"server_id", "first_seen"}, if_not_exists=True,
    )
    db["server_aliases"].create_index(["server_id"], if_not_exists=True)

    _full_text_index(db)

    db.execute("DROP VIEW IF EXISTS tool_catalogue")
    db.execute(
        """
        CREATE VIEW tool_catalogue AS
        SELECT
            t.id AS tool_id, s.name AS server, t.name AS tool, t.title, t.description,
            c.category, c.risk, c.confidence, c.flags, c.evidence, c.classifier_version,
            t.status, t.hash, t.first_seen,
            COALESCE(t.last_seen, src.last_success_at) AS last_seen
        FROM tools t
        JOIN servers s ON s.id = t.server_id
        LEFT JOIN sources src ON src.id = t.source_id
        LEFT JOIN classifications c ON c.id = t.classification_id
        """
    )
    # 3 -> 4: what a person browses first (Datasette leads with it): the listed tools, riskiest
    # and surest first, with the strongest piece of evidence. `tool_id` is the full-text key.
    db.execute("DROP VIEW IF EXISTS tools_by_risk")
    db.execute(
        f"""
        CREATE VIEW tools_by_risk AS
        SELECT tool, server, category, risk, flags, confidence,
            json_extract(evidence, '$[0]') AS top_evidence, description, tool_id
        FROM tool_catalogue WHERE status = 'listed'
        ORDER BY {_RISK_RANK} DESC, confidence DESC, server, tool
        """
    )


_RISK_RANK = "CASE risk WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 WHEN 'low' THEN 0 ELSE -1 END"
