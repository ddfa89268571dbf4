"""Each server's grade (A-F), its reasons and its toxic flows, kept beside the server and with history.

`servers.grade`, `servers.grade_reasons`, `servers.toxic_flows` (a count) and `servers.graded_with`
(the classifier version its tools were classified with) hold the current grade; `server_grades` gets a
row whenever a server's grade, reasons or flows change, so a grade that worsens shows in `diff`.
Regrading is idempotent: unchanged tools and classifications write nothing.

The grading itself is the pure `classifier.grades.grade_server` (it imports nothing of the project): a
server's tools in, its grade out, as the classifier does for one tool.
"""

import json

from .db import json_object  # noqa: F401  (kept for callers that read the JSON columns)

_BATCH = 500


def _dump(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def regrade(db, server_ids=None, *, now, crawl_run_id=None):
    """Grade these servers (all when None) from their listed tools' current classifications.
    Returns the number of servers whose grade record changed."""
    from ..classifier.grades import grade_server

    if server_ids is None:
        server_ids = [row[0] for row in db.execute("SELECT id FROM servers")]
    server_ids = sorted(set(server_ids))
    changed = 0
    for start in range(0, len(server_ids), _BATCH):
        ids = server_ids[start : start + _BATCH]
        marks = ", ".join("?" * len(ids))
        tools = {sid: [] for sid in ids}
        versions = {sid: set() for sid in ids}
        for sid, name, category, flags, version in db.execute(
            "SELECT t.server_id, t.name, c.category, c.flags, c.classifier_version FROM tools t "
            "LEFT JOIN classifications c ON c.id = t.classification_id "
            f"WHERE t.server_id IN ({marks}) AND t.status = 'listed'", ids
        ):
            tools[sid].append({"tool": name, "category": category, "flags": json.loads(flags) if flags else []})
            if version:
                versions[sid].add(version)
        current = {sid: (name, grade, reasons, flows) for sid, name, grade, reasons, flows in db.execute(
            f"SELECT id, name, grade, grade_reasons, grade_flows FROM servers WHERE id IN ({marks})", ids)}
        updates, history = [], []
        for sid in ids:
            name, old_grade, old_reasons, old_flows = current[sid]
            if not tools[sid] and old_grade is None:
                continue  # a server whose tools were never listed has no grade to give
            graded = grade_server(tools[sid], name)
            reasons = _dump([r.as_dict() for r in graded.reasons])
            flows = _dump([f.as_dict() for f in graded.flows])
            if (graded.grade, reasons, flows) == (old_grade, old_reasons, old_flows):
                continue
            version = ",".join(sorted(versions[sid])) or None
            updates.append([graded.grade, reasons, flows, len(graded.flows), version, sid])
            history.append([sid, graded.grade, old_grade, reasons, flows, version, now, crawl_run_id])
        db.conn.executemany(
            "UPDATE servers SET grade = ?, grade_reasons = ?, grade_flows = ?, toxic_flows = ?, graded_with = ? "
            "WHERE id = ?", updates)
        db.conn.executemany(
            "INSERT INTO server_grades (server_id, grade, grade_before, reasons, flows, classifier_version, seen_at, "
            "crawl_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", history)
        changed += len(updates)
    return changed


def grades(db, servers=None, *, grade=None):
    """The current grade record of these servers (names; all when None), in name order:
    dicts with server, grade, reasons (each naming its tools) and flows (each naming three tools)."""
    where, params = ["s.grade IS NOT NULL"], []
    if servers:
        from .queries import server_id

        ids = [server_id(db, name) for name in servers]
        where.append(f"s.id IN ({', '.join('?' * len(ids))})")
        params += ids
    if grade:
        where.append("s.grade = ?")
        params.append(grade)
    rows = db.execute(
        "SELECT s.name, s.grade, s.grade_reasons, s.grade_flows, s.graded_with FROM servers s "
        f"WHERE {' AND '.join(where)} ORDER BY s.name", params).fetchall()
    return [{"server": name, "grade": g, "reasons": json.loads(reasons or "[]"), "flows": json.loads(flows or "[]"),
             "classifier_version": version} for name, g, reasons, flows, version in rows]


def grade_changes(db, *, since_run=None, since_time=None, run=None, server_id=None):
    """Grade changes of servers already graded before, as `diff` rows, in the order they happened."""
    where, params = ["g.grade_before IS NOT NULL"], []
    if since_run is not None:
        where.append("g.crawl_run_id > ?")
        params.append(since_run)
    if since_time is not None:
        where.append("g.seen_at > ?")
        params.append(since_time)
    if run is not None:
        where.append("g.crawl_run_id = ?")
        params.append(run)
    if server_id is not None:
        where.append("g.server_id = ?")
        params.append(server_id)
    from ..classifier.grades import RANK

    changes = []
    for name, grade, before, reasons, seen_at, run_id in db.execute(
        "SELECT s.name, g.grade, g.grade_before, g.reasons, g.seen_at, g.crawl_run_id FROM server_grades g "
        f"JOIN servers s ON s.id = g.server_id WHERE {' AND '.join(where)} ORDER BY g.id", params
    ):
        if grade == before:
            continue  # only the reasons moved
        way = "worse" if RANK[grade] > RANK[before] else "better"
        worst = [r for r in json.loads(reasons or "[]") if r.get("grade") == grade]
        why = f" ({worst[0]['says']}: {', '.join(worst[0]['tools'])})" if worst else ""
        changes.append({
            "server": name, "tool": None, "change": "grade", "grade_before": before, "grade": grade,
            "risk_before": None, "risk": None,
            "category_before": None, "category": None, "flags": [], "fields": [], "changed_at": seen_at,
            "crawl_run": run_id, "description_before": None, "description": None, "action_before": None,
            "note": f"seen {seen_at}; grade {way} {before} -> {grade}{why}",
        })
    return changes
