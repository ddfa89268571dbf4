"""Tools whose definition changed between crawls: a changed description is how a trusted tool
turns malicious, so every change is kept (tool_history) and shown here with what changed and
how its classification moved."""

import json

from crawler import DEFINING_FIELDS


def changed_tools(db, *, since=None, run_id=None, server=None, limit=100):
    """The most recent definition changes first: server, tool, when, which fields, risk before -> after."""
    where, params = ["h.change = 'changed'"], []
    if since:
        where.append("h.seen_at >= ?")
        params.append(since)
    if run_id is not None:
        where.append("h.crawl_run_id = ?")
        params.append(run_id)
    if server:
        where.append("s.name = ?")
        params.append(server)
    rows = db.execute(
        "SELECT h.tool_id, h.hash, h.definition, h.seen_at, h.crawl_run_id, s.name, t.name, so.name, "
        "(SELECT p.hash FROM tool_history p WHERE p.tool_id = h.tool_id AND p.id < h.id AND p.definition IS NOT NULL "
        " ORDER BY p.id DESC LIMIT 1), "
        "(SELECT p.definition FROM tool_history p WHERE p.tool_id = h.tool_id AND p.id < h.id AND p.definition IS NOT NULL "
        " ORDER BY p.id DESC LIMIT 1) "
        "FROM tool_history h JOIN tools t ON t.id = h.tool_id JOIN servers s ON s.id = t.server_id "
        "LEFT JOIN crawl_runs r ON r.id = h.crawl_run_id LEFT JOIN sources so ON so.id = r.source_id "
        f"WHERE {' AND '.join(where)} ORDER BY h.id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    result = []
    for tool_id, new_hash, new_def, seen_at, run, server_name, tool, source, old_hash, old_def in rows:
        new, old = _load(new_def), _load(old_def)
        fields = [key for key in DEFINING_FIELDS if new.get(key) != old.get(key)] if old_def else []
        before, after = _classification(db, tool_id, old_hash), _classification(db, tool_id, new_hash)
        result.append({
            "server": server_name, "tool": tool, "changed_at": seen_at, "crawl_run": run, "source": source,
            "fields": fields,
            "risk_before": before.get("risk"), "risk": after.get("risk"),
            "category_before": before.get("category"), "category": after.get("category"),
            "flags": after.get("flags", []),
            "description_before": old.get("description"), "description": new.get("description"),
        })
    return result


def _load(text):
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _classification(db, tool_id, tool_hash):
    if tool_hash is None:
        return {}
    row = db.execute(
        "SELECT category, risk, flags FROM classifications WHERE tool_id = ? AND tool_hash = ? ORDER BY id DESC LIMIT 1",
        [tool_id, tool_hash]).fetchone()
    if row is None:
        return {}
    return {"category": row[0], "risk": row[1], "flags": json.loads(row[2]) if row[2] else []}
