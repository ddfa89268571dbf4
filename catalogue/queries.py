"""Read the catalogue: search tools, show a server, count what is there."""

import difflib
import json

from classifier import CATEGORIES, FLAGS, RISKS

from .db import CatalogueError

TOOL_COLUMNS = ("server", "tool", "category", "risk", "confidence", "flags", "description")


def _decode(row):
    row = dict(row)
    for key in ("flags", "evidence"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row


def _rows(db, sql, params):
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [_decode(zip(names, values)) for values in cursor]


def _check_choice(value, choices, what):
    if value is not None and value not in choices:
        raise CatalogueError(f"unknown {what} {value!r}: choose from {', '.join(choices)}")


def search(db, text=None, *, category=None, risk=None, server=None, limit=50):
    """Tools whose name, title or description match `text` (best match first), with filters.

    Without text, every tool that passes the filters, riskiest first.
    """
    _check_choice(category, CATEGORIES, "category")
    _check_choice(risk, RISKS, "risk")
    where, params = ["t.status = 'listed'"], []
    if category:
        where.append("c.category = ?")
        params.append(category)
    if risk:
        where.append("c.risk = ?")
        params.append(risk)
    if server:
        where.append("s.name = ?")
        params.append(server)
    select = (
        "SELECT s.name AS server, t.name AS tool, c.category, c.risk, c.confidence, c.flags, "
        "t.description, c.evidence FROM tools t JOIN servers s ON s.id = t.server_id "
        "LEFT JOIN classifications c ON c.id = (SELECT max(id) FROM classifications "
        "WHERE tool_id = t.id AND tool_hash = t.hash)"
    )
    if text and text.strip():
        sql = (
            f"{select} JOIN (SELECT rowid, rank FROM tools_fts WHERE tools_fts MATCH ?) m ON m.rowid = t.id "
            f"WHERE {' AND '.join(where)} ORDER BY m.rank, s.name, t.name LIMIT ?"
        )
        params = [db.quote_fts(text), *params, limit]
    else:
        sql = (
            f"{select} WHERE {' AND '.join(where)} "
            "ORDER BY CASE c.risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, "
            "s.name, t.name LIMIT ?"
        )
        params = [*params, limit]
    return _rows(db, sql, params)


def server_id(db, name):
    """The id of the server called `name`, or a CatalogueError that suggests near names."""
    row = db.execute("SELECT id FROM servers WHERE name = ?", [name]).fetchone()
    if row:
        return row[0]
    names = [n for (n,) in db.execute("SELECT name FROM servers")]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise CatalogueError(f"no server named {name!r} in the catalogue{hint}")


def server_tools(db, name, *, include_removed=False):
    """A server's tools with their current classification, in name order."""
    sid = server_id(db, name)
    status = "" if include_removed else "AND t.status = 'listed'"
    return _rows(
        db,
        "SELECT t.name AS tool, c.category, c.risk, c.confidence, c.flags, c.evidence, t.description, "
        "t.hash, t.status, c.classifier_version FROM tools t "
        "LEFT JOIN classifications c ON c.id = (SELECT max(id) FROM classifications "
        f"WHERE tool_id = t.id AND tool_hash = t.hash) WHERE t.server_id = ? {status} ORDER BY t.name",
        [sid],
    )


def show(db, name):
    """A server: its record, per-category counts and its tools."""
    sid = server_id(db, name)
    server = _rows(db, "SELECT name, title, description, first_seen, tools_known FROM servers WHERE id = ?", [sid])[0]
    server["sources"] = [
        row[0] for row in db.execute(
            "SELECT so.name FROM server_sources ss JOIN sources so ON so.id = ss.source_id WHERE ss.server_id = ? "
            "ORDER BY so.name", [sid])
    ]
    tools = server_tools(db, name)
    server["categories"] = {c: sum(1 for t in tools if t["category"] == c) for c in CATEGORIES}
    server["tools"] = tools
    return server


def stats(db):
    """Counts across the catalogue: servers, tools, categories, risks, flags, last crawls."""
    listed = "FROM tool_catalogue WHERE status = 'listed'"
    result = {
        "servers": db.execute("SELECT count(*) FROM servers").fetchone()[0],
        "tools": db.execute(f"SELECT count(*) {listed}").fetchone()[0],
        "categories": {c: 0 for c in CATEGORIES},
        "risks": {r: 0 for r in RISKS},
        "flags": {f: 0 for f in FLAGS},
    }
    for category, count in db.execute(f"SELECT category, count(*) {listed} GROUP BY category"):
        result["categories"][category or "unclassified"] = count
    for risk, count in db.execute(f"SELECT risk, count(*) {listed} GROUP BY risk"):
        result["risks"][risk or "unclassified"] = count
    for (flags,) in db.execute(f"SELECT flags {listed} AND flags != '[]'"):
        for flag in json.loads(flags):
            result["flags"][flag] = result["flags"].get(flag, 0) + 1
    result["crawls"] = _rows(
        db,
        "SELECT so.name AS source, r.status, r.started_at, r.finished_at, r.tools_seen, r.tools_added, "
        "r.tools_changed, r.tools_removed, r.error_count FROM crawl_runs r JOIN sources so ON so.id = r.source_id "
        "WHERE r.id IN (SELECT max(id) FROM crawl_runs GROUP BY source_id) ORDER BY so.name",
        [],
    )
    return result
