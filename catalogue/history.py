"""What crawls changed: tools added, definitions changed (which fields, risk before and after), tools
gone. A tool that changes after approval is how a trusted server turns hostile."""

import json

from ..classifier import RISKS
from ..crawler import DEFINING_FIELDS

from .db import CatalogueError, json_object

RANK = {risk: i for i, risk in enumerate(RISKS)}


def risk_up(before, after):
    return before in RANK and after in RANK and RANK[after] > RANK[before]


def change_row(server, tool, change, before, after, note):
    return {
        "server": server, "tool": tool, "change": change,
        "risk_before": before.get("risk") if before else None, "risk": after["risk"] if after else None,
        "category_before": before.get("category") if before else None,
        "category": after["category"] if after else None,
        "action_before": before.get("action") if before else None,
        "note": note,
    }


def diff_since(db, since=None, server=None, *, run=None, limit=None):
    """Changes recorded by crawls, in the order they were seen: after `since` (a crawl run id:
    what later runs found; or an ISO time), or found by crawl run `run`. A changed definition says
    which fields changed, its descriptions before and after, and how its risk moved."""
    where, params = ["h.change IN ('added', 'changed', 'removed', 'restored')"], []
    graded = {}  # the same filters, for the servers' grade changes
    if since is not None:
        if isinstance(since, int) or str(since).isdigit():
            where.append("h.crawl_run_id > ?")
            params.append(_run_id(db, since))
            graded["since_run"] = params[-1]
        else:
            where.append("h.seen_at > ?")
            params.append(_iso_time(since))
            graded["since_time"] = params[-1]
    if run is not None:
        where.append("h.crawl_run_id = ?")
        params.append(_run_id(db, run))
        graded["run"] = params[-1]
    if server:
        where.append("s.name = ?")
        params.append(server)
        row = db.execute("SELECT id FROM servers WHERE name = ?", [server]).fetchone()
        graded["server_id"] = row[0] if row else -1
    rows = db.execute(
        "SELECT s.name, t.name, h.change, h.tool_id, h.hash, h.definition, h.seen_at, h.crawl_run_id, "
        "(SELECT p.hash FROM tool_history p WHERE p.tool_id = h.tool_id AND p.id < h.id AND p.definition IS NOT NULL "
        " ORDER BY p.id DESC LIMIT 1), "
        "(SELECT p.definition FROM tool_history p WHERE p.tool_id = h.tool_id AND p.id < h.id AND p.definition IS NOT NULL "
        " ORDER BY p.id DESC LIMIT 1) "
        "FROM tool_history h JOIN tools t ON t.id = h.tool_id JOIN servers s ON s.id = t.server_id "
        f"WHERE {' AND '.join(where)} ORDER BY h.id LIMIT ?",
        [*params, -1 if limit is None else limit],
    ).fetchall()
    changes = []
    for server_name, tool, change, tool_id, new_hash, new_def, seen_at, run_id, old_hash, old_def in rows:
        after = {} if change == "removed" else _classification(db, tool_id, new_hash)
        before = _classification(db, tool_id, old_hash) if change == "changed" else {}
        new, old = json_object(new_def), json_object(old_def)
        fields = _changed_fields(old, new) if change == "changed" and old_def else []
        note = f"seen {seen_at}"
        if change == "changed" and risk_up(before.get("risk"), after.get("risk")):
            note += f"; risk up {before.get('risk')} -> {after.get('risk')}"
        gained, lost = _flag_moves(before, after) if change == "changed" else ([], [])
        changes.append({
            "server": server_name, "tool": tool, "change": {"added": "new", "restored": "new"}.get(change, change),
            "risk_before": before.get("risk"), "risk": after.get("risk"),
            "category_before": before.get("category"), "category": after.get("category"),
            "grade_before": None, "grade": None,  # set on a server's grade change, below
            "flags": after.get("flags", []), "flags_gained": gained, "flags_lost": lost, "fields": fields, "changed_at": seen_at, "crawl_run": run_id,
            "description_before": old.get("description") if change == "changed" else None,
            "description": new.get("description"), "action_before": None, "note": note,
        })
    # A server's grade that moved (a tool turned destructive, a flow appeared), after its tools' changes.
    from .grading import grade_changes

    changes += grade_changes(db, **graded)
    return changes if limit is None else changes[:limit]


def _iso_time(value):
    """An ISO date or time as the catalogue writes times (UTC, milliseconds, Z), so they compare as
    text; anything else is an error rather than a comparison that silently finds nothing."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise CatalogueError(f"--since {value!r}: not a crawl run id or an ISO date or time "
                             "(e.g. 12, 2026-11-30 or 2026-11-30T08:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _run_id(db, value):
    run = int(value)
    if db.execute("SELECT 1 FROM crawl_runs WHERE id = ?", [run]).fetchone() is None:
        raise CatalogueError(f"no crawl run {run} in the catalogue (see `mcp-risk stats`)")
    return run


def pinned_change(db, server, tool, pinned_hash):
    """What changed in a tool since the definition a policy pinned (its hash): the fields, flags
    gained and lost, the descriptions before and after. Empty where the catalogue never stored
    the pinned definition (a policy written from another catalogue)."""
    from .queries import server_id

    row = db.execute("SELECT id, hash FROM tools WHERE server_id = ? AND name = ?",
                     [server_id(db, server), tool]).fetchone()
    if row is None:
        return {}
    tool_id, current_hash = row

    def definition(tool_hash):
        found = db.execute("SELECT definition FROM tool_history WHERE tool_id = ? AND hash = ? "
                           "AND definition IS NOT NULL ORDER BY id DESC LIMIT 1", [tool_id, tool_hash]).fetchone()
        return json_object(found[0]) if found else None

    old, new = definition(pinned_hash), definition(current_hash)
    if old is None or new is None:
        return {}
    gained, lost = _flag_moves(_classification(db, tool_id, pinned_hash), _classification(db, tool_id, current_hash))
    return {"fields": _changed_fields(old, new), "flags_gained": gained, "flags_lost": lost,
            "description_before": old.get("description"), "description": new.get("description")}


def _changed_fields(old, new):
    """The defining fields (name, description, schema, ...) that differ between two definitions."""
    return [k for k in DEFINING_FIELDS if new.get(k) != old.get(k)]


def _flag_moves(before, after):
    """(flags gained, flags lost) between two classifications, each sorted."""
    flags_before, flags_after = set(before.get("flags", [])), set(after.get("flags", []))
    return sorted(flags_after - flags_before), sorted(flags_before - flags_after)


def _classification(db, tool_id, tool_hash):
    if tool_hash is None:
        return {}
    row = db.execute("SELECT category, risk, flags FROM classifications WHERE tool_id = ? AND tool_hash = ? "
                     "ORDER BY id DESC LIMIT 1", [tool_id, tool_hash]).fetchone()
    return {"category": row[0], "risk": row[1], "flags": json.loads(row[2]) if row[2] else []} if row else {}
