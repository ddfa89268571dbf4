"""Recommended policies per server, from the taxonomy's default table, each decision with its reason.

The format is PolicyLayer's hosted `policy.json`: `default: deny`, so only the tools listed under
`tools` may be called; `hide` removes tools from the agent's view. Reasons and the definition hash of
every decided tool go under `x-mcp-risk`, which policy engines ignore.
"""

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .queries import server_tools

GENERATOR = "mcp-risk"


@dataclass(frozen=True)
class Rule:
    action: str  # allow | hide | deny
    per_minute: int | None
    says: str


# The taxonomy's "Recommended policy per category".
DEFAULT_RULES = {
    "read": Rule("allow", None, "allowed"),
    "write": Rule("allow", 30, "allowed, rate-limited to 30 calls a minute"),
    "execute": Rule("allow", 10, "allowed, rate-limited to 10 calls a minute; human approval recommended"),
    "destructive": Rule("hide", None, "hidden and denied; enable only by explicit approval"),
    "financial": Rule("deny", None, "denied until a human approves each call"),
}
SUSPICIOUS_RULE = Rule("hide", None, "hidden: its description carries instructions to the model")
UNCLASSIFIED_RULE = Rule("deny", None, "denied: not yet classified")


def decide(tool):
    """The rule for one tool (a row with category, risk, flags, evidence)."""
    if "suspicious_instructions" in (tool.get("flags") or []):
        return SUSPICIOUS_RULE
    return DEFAULT_RULES.get(tool.get("category"), UNCLASSIFIED_RULE)


def _reason(tool, rule):
    evidence = [e for e in (tool.get("evidence") or []) if not e.startswith("against:")][:2]
    why = f" ({'; '.join(evidence)})" if evidence else ""
    return f"{tool.get('category') or 'unclassified'}, {tool.get('risk') or '?'} risk{why}: {rule.says}"


def policylayer_policy(server, tools):
    """A PolicyLayer policy.json document (a dict) for `server` and its classified tools."""
    hide, allowed, decisions = [], {}, {}
    for tool in sorted(tools, key=lambda t: t["tool"]):
        rule = decide(tool)
        name = tool["tool"]
        if rule.action == "hide":
            hide.append(name)
        elif rule.action == "allow":
            entry = {}
            if rule.per_minute:
                entry["limits"] = [{"counter": "calls", "window": "minute", "max": rule.per_minute, "scope": "tool"}]
            allowed[name] = entry
        decisions[name] = {
            "action": rule.action,
            "category": tool.get("category"),
            "risk": tool.get("risk"),
            "confidence": tool.get("confidence"),
            "hash": tool.get("hash"),
            "reason": _reason(tool, rule),
        }
    return {
        "version": "1",
        "description": f"Recommended policy for MCP server {server} (mcp-risk, balanced profile)",
        "default": "deny",
        "hide": hide,
        "tools": allowed,
        "x-mcp-risk": {
            "generator": GENERATOR,
            "server": server,
            "classifier": sorted({t.get("classifier_version") for t in tools if t.get("classifier_version")}),
            "decisions": decisions,
        },
    }


def server_policy(db, server):
    """The policy document for one server of the catalogue."""
    return policylayer_policy(server, server_tools(db, server))


def dumps(policy):
    return json.dumps(policy, indent=2, ensure_ascii=False) + "\n"


_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def safe_filename(server, suffix=".json"):
    """A file name for a server that is safe on every file system and unique per server name.

    Plain lowercase names are kept (`github` -> `github.json`); any other name is slugged and gets
    a short hash of the real name, so `GitHub` and `git/hub` can never collide.
    """
    slug = _UNSAFE.sub("-", server.lower()).strip("-._")[:80].rstrip("-._") or "server"
    if slug != server:
        slug += "-" + hashlib.sha256(server.encode("utf-8")).hexdigest()[:8]
    return slug + suffix


def write_atomically(path, text):
    """Write a file whole or not at all: a crash never leaves half a policy behind."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def export_policies(db, directory, progress=None):
    """One policy file per server whose tools are known, plus `_index.json` mapping servers to files.

    Returns the index entries.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cursor = db.execute(
        "SELECT s.name, t.name, c.category, c.risk, c.confidence, c.flags, c.evidence, t.hash, c.classifier_version "
        "FROM tools t JOIN servers s ON s.id = t.server_id "
        "LEFT JOIN classifications c ON c.id = (SELECT max(id) FROM classifications "
        "WHERE tool_id = t.id AND tool_hash = t.hash) WHERE t.status = 'listed' ORDER BY s.name, t.name"
    )
    index = []
    current, tools = None, []

    def flush():
        if current is None:
            return
        name = safe_filename(current)
        policy = policylayer_policy(current, tools)
        write_atomically(directory / name, dumps(policy))
        index.append({"server": current, "file": name, "tools": len(tools), "hidden": len(policy["hide"]),
                      "allowed": len(policy["tools"])})
        if progress:
            progress(1)

    for server, tool, category, risk, confidence, flags, evidence, tool_hash, version in cursor:
        if server != current:
            flush()
            current, tools = server, []
        tools.append({"tool": tool, "category": category, "risk": risk, "confidence": confidence,
                      "flags": json.loads(flags) if flags else [], "evidence": json.loads(evidence) if evidence else [],
                      "hash": tool_hash, "classifier_version": version})
    flush()
    write_atomically(directory / "_index.json", json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    return index


