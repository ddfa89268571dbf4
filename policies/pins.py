"""A policy's pins against the catalogue now: tools new since the policy, definitions changed after
it approved them, risk that went up, tools gone."""

import json
from pathlib import Path

from ..catalogue.db import CatalogueError
from ..catalogue.history import change_row, pinned_change, risk_up
from ..catalogue.queries import server_tools
from .export import sidecar_name
from .formats import PolicyFormatError, pins as read_pins


def diff_policy(db, pins):
    """Changes to a server's tools since the policy whose `x-mcp-risk` pins are given."""
    server = pins["server"]
    pinned = pins["decisions"]
    current = {t["tool"]: t for t in server_tools(db, server)}
    changes = []
    for name, tool in sorted(current.items()):
        before = pinned.get(name)
        if before is None:
            changes.append(change_row(server, name, "new", None, tool, "not in the policy: denied there by default"))
        elif before.get("hash") != tool["hash"]:
            note = "definition changed after the policy approved it"
            if risk_up(before.get("risk"), tool["risk"]):
                note += f"; risk up {before.get('risk')} -> {tool['risk']}"
            changes.append({**change_row(server, name, "changed", before, tool, note),
                            **pinned_change(db, server, name, before.get("hash"))})
        elif risk_up(before.get("risk"), tool["risk"]):
            changes.append(change_row(server, name, "risk up", before, tool, "same definition, classified riskier now"))
    for name in sorted(set(pinned) - set(current)):
        changes.append(change_row(server, name, "removed", pinned[name], None, "no longer listed by the server"))
    return changes


def load_pins(path):
    """The pins of a policy file we wrote (any format), or of a Claude Code sidecar."""
    path = Path(path)
    candidates = [path]
    if not path.name.endswith(".mcp-risk.json"):
        candidates.append(path.with_name(Path(sidecar_name(path.name)).name))
    errors = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        try:
            return read_pins(candidate.read_text(encoding="utf-8"))
        except (PolicyFormatError, UnicodeDecodeError, json.JSONDecodeError) as error:
            errors.append(f"{candidate}: {error}")
    raise CatalogueError("; ".join(errors) or f"{path}: no such file")
