"""What changed since a policy was made or since a crawl: new tools, changed definitions, risk that
went up, tools gone. A tool that changes after approval is how a trusted server turns hostile."""

import json

from classifier import RISKS

from .db import CatalogueError
from .queries import server_tools

RANK = {risk: i for i, risk in enumerate(RISKS)}


def _risk_up(before, after):
    return before in RANK and after in RANK and RANK[after] > RANK[before]


def diff_policy(db, pins):
    """Changes to a server's tools since the policy whose `x-mcp-risk` pins are given."""
    server = pins["server"]
    pinned = pins["decisions"]
    current = {t["tool"]: t for t in server_tools(db, server)}
    changes = []
    for name, tool in sorted(current.items()):
        before = pinned.get(name)
        if before is None:
            changes.append(_change(server, name, "new", None, tool, "not in the policy: denied there by default"))
        elif before.get("hash") != tool["hash"]:
            note = "definition changed after the policy approved it"
            if _risk_up(before.get("risk"), tool["risk"]):
                note += f"; risk up {before.get('risk')} -> {tool['risk']}"
            changes.append(_change(server, name, "changed", before, tool, note))
        elif _risk_up(before.get("risk"), tool["risk"]):
            changes.append(_change(server, name, "risk up", before, tool, "same definition, classified riskier now"))
    for name in sorted(set(pinned) - set(current)):
        changes.append(_change(server, name, "removed", pinned[name], None, "no longer listed by the server"))
    return changes


def _change(server, tool, change, before, after, note):
    return {
        "server": server, "tool": tool, "change": change,
        "risk_before": before.get("risk") if before else None, "risk": after["risk"] if after else None,
        "category_before": before.get("category") if before else None,
        "category": after["category"] if after else None,
        "action_before": before.get("action") if before else None,
        "note": note,
    }


def diff_since(db, since, server=None):
    """Changes recorded by crawls after `since`: a crawl run id (changes of later runs) or an ISO
    time (changes seen after it)."""
    where, params = ["h.change IN ('added', 'changed', 'removed', 'restored')"], []
    if isinstance(since, int) or (isinstance(since, str) and since.isdigit()):
        run = int(since)
        if db.execute("SELECT 1 FROM crawl_runs WHERE id = ?", [run]).fetchone() is None:
            raise CatalogueError(f"no crawl run {run} in the catalogue (see `mcp-risk stats`)")
        where.append("h.crawl_run_id > ?")
        params.append(run)
    else:
        where.append("h.seen_at > ?")
        params.append(since)
    if server:
        where.append("s.name = ?")
        params.append(server)
    rows = db.execute(
        "SELECT s.name, t.name, h.change, h.hash, h.seen_at, "
        "(SELECT p.hash FROM tool_history p WHERE p.tool_id = h.tool_id AND p.id < h.id AND p.definition IS NOT NULL "
        " ORDER BY p.id DESC LIMIT 1), h.tool_id "
        "FROM tool_history h JOIN tools t ON t.id = h.tool_id JOIN servers s ON s.id = t.server_id "
        f"WHERE {' AND '.join(where)} ORDER BY h.id",
        params,
    ).fetchall()
    changes = []
    for server_name, tool, change, new_hash, seen_at, old_hash, tool_id in rows:
        after = _classification(db, tool_id, new_hash)
        before = _classification(db, tool_id, old_hash) if change == "changed" else {}
        label = {"added": "new", "restored": "new"}.get(change, change)
        note = f"seen {seen_at}"
        if change == "changed" and _risk_up(before.get("risk"), after.get("risk")):
            note += f"; risk up {before.get('risk')} -> {after.get('risk')}"
        changes.append({
            "server": server_name, "tool": tool, "change": label,
            "risk_before": before.get("risk"), "risk": None if change == "removed" else after.get("risk"),
            "category_before": before.get("category"), "category": None if change == "removed" else after.get("category"),
            "action_before": None, "note": note,
        })
    return changes


def _classification(db, tool_id, tool_hash):
    if tool_hash is None:
        return {}
    row = db.execute("SELECT category, risk FROM classifications WHERE tool_id = ? AND tool_hash = ? "
                     "ORDER BY id DESC LIMIT 1", [tool_id, tool_hash]).fetchone()
    return {"category": row[0], "risk": row[1]} if row else {}


def load_pins(path):
    """The pins of a policy file we wrote (any format), or of a Claude Code sidecar."""
    from .policies import sidecar_name
    from .policy_formats import PolicyFormatError, pins
    from pathlib import Path

    path = Path(path)
    candidates = [path]
    if not path.name.endswith(".mcp-risk.json"):
        candidates.append(path.with_name(Path(sidecar_name(path.name)).name))
    errors = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        try:
            return pins(candidate.read_text(encoding="utf-8"))
        except (PolicyFormatError, UnicodeDecodeError, json.JSONDecodeError) as error:
            errors.append(f"{candidate}: {error}")
    raise CatalogueError("; ".join(errors) or f"{path}: no such file")
