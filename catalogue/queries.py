"""Read the catalogue: search tools, show a server, count what is there."""

import difflib
import json
import re

from ..classifier import CATEGORIES, FLAGS, RISK, RISKS, SEVERITY

from .db import CatalogueError

GRADES = ("A", "B", "C", "D", "F")  # classifier.grades.GRADES

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


_SELECT = (
    "SELECT s.name AS server, t.name AS tool, c.category, c.risk, c.confidence, c.flags, "
    "t.description, c.evidence, t.id AS _id FROM tools t JOIN servers s ON s.id = t.server_id "
    "JOIN classifications c ON c.id = t.classification_id"
)
_BATCH = 256


def _filters(category, risk, server, grade=None):
    where, params = ["t.status = 'listed'"], []
    if grade:
        where.append("s.grade = ?")
        params.append(grade)
    if category:
        where.append("t.category = ?")
        params.append(category)
    if risk:
        where.append("t.risk = ?")
        params.append(risk)
    if server:
        where.append("s.name = ?")
        params.append(server)
    return where, params


def search(db, text=None, *, category=None, risk=None, server=None, grade=None, flag=None, limit=50):
    """Tools whose name, title or description match `text` (best match first), with filters
    (`grade`: only tools of servers graded so).

    Without text, every tool that passes the filters, riskiest first (then the surest). With `flag`, only tools
    that carry it.
    """
    _check_choice(category, CATEGORIES, "category")
    _check_choice(risk, RISKS, "risk")
    _check_choice(grade, GRADES, "grade")
    _check_choice(flag, FLAGS, "flag")
    if grade or flag:
        # Few tools pass a grade or a flag filter: filter in SQL, text ranked by FTS.
        return _search_narrowed(db, text, category, risk, server, limit, grade=grade, flag=flag)
    if text and text.strip():
        return _search_text(db, text, category, risk, server, limit)
    return _search_filtered(db, category, risk, server, limit)


def _search_text(db, text, category, risk, server, limit):
    where, params = _filters(category, risk, server)
    words = f"{{name title description}} : ({db.quote_fts(text)})"
    if server:
        # A server has few tools: rank only those.
        ids = [row[0] for row in db.execute(
            "SELECT t.id FROM tools t JOIN servers s ON s.id = t.server_id WHERE s.name = ?", [server])]
        rank = {tool_id: i for i, (tool_id,) in enumerate(db.execute(
            f"SELECT rowid FROM tools_fts WHERE tools_fts MATCH ? AND rowid IN ({_marks(ids)}) ORDER BY rank",
            [words, *ids]))}
        rows = _rows(db, f"{_SELECT} WHERE t.id IN ({_marks(list(rank))}) AND {' AND '.join(where)}",
                     [*rank, *params])
        return [_public(r) for r in sorted(rows, key=lambda r: rank[r["_id"]])[:limit]]
    if category or risk:
        # The category is indexed beside the words: FTS5 filters and ranks in one pass.
        kept = [c for c in CATEGORIES if (not category or c == category) and (not risk or RISK[c] == risk)]
        words += " AND category : (" + " OR ".join(f'"{c}"' for c in kept or ["none"]) + ")"
        rows = _rows(db, f"{_SELECT} JOIN tools_fts f ON f.rowid = t.id WHERE tools_fts MATCH ? "
                         f"AND {' AND '.join(where)} ORDER BY f.rank LIMIT ?", [words, *params, limit])
        return [_public(r) for r in rows]
    # FTS5 ranks every match in C; the details are then read for the best candidates only, a
    # batch at a time, until `limit` listed tools are found.
    ranked = db.execute("SELECT rowid FROM tools_fts WHERE tools_fts MATCH ? ORDER BY rank", [words])
    found, batch = [], _BATCH
    while len(found) < limit:
        ids = [row[0] for row in ranked.fetchmany(batch)]
        batch *= 4  # a selective filter needs many candidates: fetch more each round
        if not ids:
            break
        order = {tool_id: i for i, tool_id in enumerate(ids)}
        rows = _rows(db, f"{_SELECT} WHERE t.id IN ({', '.join('?' * len(ids))}) AND {' AND '.join(where)}",
                     [*ids, *params])
        found += sorted(rows, key=lambda r: order[r["_id"]])
    return [_public(r) for r in found[:limit]]


def _search_narrowed(db, text, category, risk, server, limit, *, grade=None, flag=None):
    """Tools of servers graded `grade` and/or carrying `flag` (a few per cent of the catalogue at
    most): best match first with text, else riskiest first."""
    where, params = _filters(category, risk, server, grade)
    if flag:
        where.append("instr(c.flags, ?) > 0")
        params.append(json.dumps(flag))
    if text and text.strip():
        words = f"{{name title description}} : ({db.quote_fts(text)})"
        rows = _rows(db, f"{_SELECT} JOIN tools_fts f ON f.rowid = t.id WHERE tools_fts MATCH ? "
                         f"AND {' AND '.join(where)} ORDER BY f.rank LIMIT ?", [words, *params, limit])
    else:
        order = " ".join(f"WHEN '{c}' THEN {SEVERITY[c]}" for c in CATEGORIES)
        rows = _rows(db, f"{_SELECT} WHERE {' AND '.join(where)} "
                         f"ORDER BY CASE c.category {order} END DESC, c.confidence DESC, s.name, t.name LIMIT ?",
                     [*params, limit])
    return [_public(r) for r in rows]


def _search_filtered(db, category, risk, server, limit):
    if server:
        # A server has few tools: read them all and sort.
        where, params = _filters(category, risk, server)
        order = " ".join(f"WHEN '{c}' THEN {SEVERITY[c]}" for c in CATEGORIES)
        return [_public(r) for r in _rows(
            db, f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY CASE c.category {order} END DESC, "
                f"t.confidence DESC, t.name LIMIT ?",
            [*params, limit])]
    # Riskiest first: one category at a time, most severe first, each surest first as its index
    # (category, confidence) reads it, so LIMIT stops early.
    categories = [category] if category else sorted(CATEGORIES, key=lambda c: -SEVERITY[c])
    if risk:
        categories = [c for c in categories if RISK[c] == risk]
    found = []
    for name in categories:
        if len(found) >= limit:
            break
        found += _rows(db, f"{_SELECT} WHERE t.category = ? "
                           "AND t.status = 'listed' ORDER BY t.confidence DESC, t.id DESC LIMIT ?",
                       [name, limit - len(found)])
    return [_public(r) for r in found]


def _marks(values):
    return ", ".join("?" * len(values)) or "NULL"


def _public(row):
    row.pop("_id", None)
    return row


def server_id(db, name):
    """The id of the server called `name`, or a CatalogueError that suggests near names."""
    row = db.execute("SELECT id FROM servers WHERE name = ?", [name]).fetchone()
    if row is None:
        # A merged server keeps the name its first source gave it; the others still find it.
        row = db.execute("SELECT server_id FROM server_sources WHERE source_name = ? "
                         "UNION SELECT server_id FROM server_aliases WHERE value = ? LIMIT 2", [name, name]).fetchall()
        row = row[0] if len(row) == 1 else None
    if row:
        return row[0]
    names = [n for (n,) in db.execute("SELECT name FROM servers")]
    close = near_names(name, names)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise CatalogueError(f"no server named {name!r} in the catalogue{hint}")


def _parts(name):
    return [part for part in re.split(r"[/@\-_.:\s]+", name.lower()) if part]


_NEAR = 0.75  # how alike (difflib's ratio) a misspelt word and a name's word must be


def near_names(name, names, n=3):
    """The names nearest `name`: those with `name` as a whole part first (`github` is the owner
    and the first word of github/github-mcp-server, only the last part of @someone/github), then
    spelling neighbours."""
    wanted = name.lower().strip()
    exact, split = [], {candidate: _parts(candidate) for candidate in names}
    for candidate, parts in split.items():
        if wanted and wanted in parts:
            score = (parts.count(wanted), parts[0] == wanted, -len(parts), -len(candidate))
            exact.append((score, candidate))
    exact.sort(key=lambda item: (item[0], [-ord(ch) for ch in item[1]]), reverse=True)
    found = [candidate for _, candidate in exact[:n]]
    if len(found) < n and wanted:
        # A misspelt word (`githb`) is near a part of a name, rarely near the whole name.
        matcher = difflib.SequenceMatcher(b=wanted)
        ratios = {}  # names share their words: each word is measured once
        scored = []
        for candidate, parts in split.items():
            if candidate in found:
                continue
            best, nearest = _NEAR, None
            for part in {candidate.lower(), *parts}:
                ratio = ratios.get(part)
                if ratio is None:
                    matcher.set_seq1(part)
                    # the cheap bounds first: most words are nowhere near
                    ratio = ratios[part] = (matcher.ratio() if matcher.real_quick_ratio() >= _NEAR
                                            and matcher.quick_ratio() >= _NEAR else 0.0)
                if ratio >= best and (nearest is None or ratio > best):
                    best, nearest = ratio, part
            if nearest is not None:
                # Ranked as whole parts are above: the nearer word, then as if it had been typed right.
                scored.append(((round(best, 3), parts.count(nearest), parts[:1] == [nearest], -len(parts),
                                -len(candidate)), candidate))
        scored.sort(key=lambda item: (item[0], [-ord(ch) for ch in item[1]]), reverse=True)
        found += [candidate for _, candidate in scored[: n - len(found)]]
    return found


def suspicious_first(tools):
    """Tools with suspicious instructions before the rest, each group in its own order: what a
    reader of a server must see first."""
    return sorted(tools, key=lambda tool: "suspicious_instructions" not in (tool.get("flags") or []))


def server_tools(db, name, *, include_removed=False):
    """A server's tools with their current classification, in name order."""
    sid = server_id(db, name)
    status = "" if include_removed else "AND t.status = 'listed'"
    return _rows(
        db,
        "SELECT t.name AS tool, c.category, c.risk, c.confidence, c.flags, c.evidence, t.description, "
        "t.hash, t.status, c.classifier_version FROM tools t "
        f"LEFT JOIN classifications c ON c.id = t.classification_id WHERE t.server_id = ? {status} ORDER BY t.name",
        [sid],
    )


def show(db, name):
    """A server: its record, per-category counts and its tools."""
    sid = server_id(db, name)
    server = _rows(db, "SELECT name, title, description, first_seen, tools_known, grade, grade_reasons, grade_flows "
                       "FROM servers WHERE id = ?", [sid])[0]
    server["grade_reasons"] = json.loads(server["grade_reasons"] or "[]")
    server["grade_flows"] = json.loads(server.pop("grade_flows") or "[]")
    server["sources"] = [
        row[0] for row in db.execute(
            "SELECT so.name FROM server_sources ss JOIN sources so ON so.id = ss.source_id WHERE ss.server_id = ? "
            "ORDER BY so.name", [sid])
    ]
    tools = server_tools(db, name)
    server["categories"] = {c: sum(1 for t in tools if t["category"] == c) for c in CATEGORIES}
    server["tools"] = suspicious_first(tools)
    return server


def stats(db, *, grade=None):
    """Counts across the catalogue: servers, grades, tools, categories, risks, flags, last crawls.
    With `grade`, only servers of that grade and their tools are counted."""
    _check_choice(grade, GRADES, "grade")
    listed = "FROM tool_catalogue WHERE status = 'listed'"
    servers = "FROM servers"
    params = []
    if grade:
        listed += " AND server IN (SELECT name FROM servers WHERE grade = ?)"
        servers += " WHERE grade = ?"
        params = [grade]
    result = {
        "servers": db.execute(f"SELECT count(*) {servers}", params).fetchone()[0],
        "grades": {g: 0 for g in GRADES},
        "tools": db.execute(f"SELECT count(*) {listed}", params).fetchone()[0],
        "categories": {c: 0 for c in CATEGORIES},
        "risks": {r: 0 for r in RISKS},
        "flags": {f: 0 for f in FLAGS},
    }
    for g, count in db.execute(f"SELECT grade, count(*) {servers} GROUP BY grade", params):
        result["grades"][g or "ungraded"] = count
    for category, count in db.execute(f"SELECT category, count(*) {listed} GROUP BY category", params):
        result["categories"][category or "unclassified"] = count
    for risk, count in db.execute(f"SELECT risk, count(*) {listed} GROUP BY risk", params):
        result["risks"][risk or "unclassified"] = count
    for (flags,) in db.execute(f"SELECT flags {listed} AND flags != '[]'", params):
        for flag in json.loads(flags):
            result["flags"][flag] = result["flags"].get(flag, 0) + 1
    result["crawls"] = _rows(
        db,
        "SELECT r.id AS run, so.name AS source, r.status, r.started_at, r.finished_at, r.tools_seen, r.tools_added, "
        "r.tools_changed, r.tools_removed, r.error_count FROM crawl_runs r JOIN sources so ON so.id = r.source_id "
        "WHERE r.id IN (SELECT max(id) FROM crawl_runs GROUP BY source_id) ORDER BY so.name",
        [],
    )
    return result


def registry_servers(db):
    """(server name, the registry's stored record as JSON text, tools known) of every server a
    registry source recorded and has not marked deleted: what `crawl live` may probe."""
    return db.execute(
        "SELECT s.name, ss.record, s.tools_known FROM servers s "
        "JOIN server_sources ss ON ss.server_id = s.id JOIN sources so ON so.id = ss.source_id "
        "WHERE so.kind = 'registry' AND ss.record IS NOT NULL AND s.status != 'deleted' "
        "GROUP BY s.id ORDER BY s.name").fetchall()
