"""What a policy decides for each tool: a profile's rule per category, overridden by the user.

A decision is one of four actions, each rendered by every policy format as closely as it can:
  allow  callable, optionally rate-limited (calls a minute), approval possibly recommended
  ask    callable only with a human's approval of each call
  deny   not callable
  hide   not even listed to the agent, and not callable
"""

import json
from dataclasses import dataclass, replace
from pathlib import Path

from ..classifier import CATEGORIES

ACTIONS = ("allow", "ask", "deny", "hide")
# Least to most restrictive, to say which way an override moved a decision.
STRICTNESS = {action: rank for rank, action in enumerate(ACTIONS)}


@dataclass(frozen=True)
class Rule:
    action: str
    per_minute: int | None = None
    approval: str | None = None  # None | "recommended"
    says: str = ""


def _rule(action, per_minute=None, approval=None):
    parts = {"allow": "allowed", "ask": "allowed only with a human's approval of each call", "deny": "denied",
             "hide": "hidden and denied"}[action]
    if per_minute:
        parts += f", rate-limited to {per_minute} calls a minute"
    if approval == "recommended":
        parts += "; human approval recommended"
    return Rule(action, per_minute, approval, parts)


PROFILES = {
    # The taxonomy's "Recommended policy per category".
    "balanced": {
        "read": _rule("allow"),
        "write": _rule("allow", 30),
        "execute": _rule("allow", 10, "recommended"),
        "destructive": _rule("hide"),
        "financial": _rule("ask"),
    },
    "strict": {
        "read": _rule("allow"),
        "write": _rule("ask"),
        "execute": _rule("deny"),
        "destructive": _rule("hide"),
        "financial": _rule("hide"),
    },
    "permissive": {
        "read": _rule("allow"),
        "write": _rule("allow"),
        "execute": _rule("allow", 30),
        "destructive": _rule("ask"),
        "financial": _rule("ask"),
    },
}
SUSPICIOUS = Rule("hide", says="hidden: its definition carries instructions to the model, or its name or "
                               "title hides what it is")
UNCLASSIFIED = Rule("deny", says="denied: not yet classified")


@dataclass(frozen=True)
class Decision:
    tool: str
    action: str
    per_minute: int | None
    approval: str | None
    category: str | None
    risk: str | None
    confidence: float | None
    hash: str | None
    reason: str
    source: str  # "profile <name>" or "override <where>"

    def as_dict(self):
        out = {"action": self.action}
        if self.per_minute:
            out["per_minute"] = self.per_minute
        if self.approval:
            out["approval"] = self.approval
        out.update(category=self.category, risk=self.risk, confidence=self.confidence, hash=self.hash,
                   reason=self.reason, source=self.source)
        return out


class OverridesError(ValueError):
    """An overrides file that cannot be used; the message names the file and the entry."""


class Overrides:
    """User decisions that win over the profile, most specific first:
    a server's tool > a server's category > a tool (any server) > a category (any server).

        categories: {execute: deny}
        tools: {run_sql: {action: ask, reason: "DBA on call"}}
        servers:
          github/github-mcp-server:
            categories: {destructive: ask}
            tools: {delete_file: {action: allow, per_minute: 5, reason: "reviewed 2026-11-20"}}
    """

    def __init__(self, document=None, where="overrides"):
        # Only an empty file means "no overrides": `[]`, `0` or `""` is a mistake, said as one.
        document = {} if document is None else document
        self.where = where
        if not isinstance(document, dict):
            raise OverridesError(f"{where}: expected a mapping at the top")
        self._check_keys(document, {"categories", "tools", "servers"}, "")
        self.categories = self._entries(document.get("categories"), "categories", CATEGORIES)
        self.tools = self._entries(document.get("tools"), "tools")
        servers = document.get("servers") or {}
        if not isinstance(servers, dict):
            raise OverridesError(f"{where}: servers: expected a mapping of server names")
        self.servers = {}
        for name, body in servers.items():
            if not isinstance(body, dict):
                raise OverridesError(f"{where}: servers.{name}: expected a mapping")
            self._check_keys(body, {"categories", "tools"}, f"servers.{name}.")
            self.servers[str(name)] = (
                self._entries(body.get("categories"), f"servers.{name}.categories", CATEGORIES),
                self._entries(body.get("tools"), f"servers.{name}.tools"),
            )
        # What lookups met: the servers asked about, and the tool entries that named a real tool.
        self._servers_met, self._tools_met = set(), set()

    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise OverridesError(f"{path}: cannot read ({error})") from None
        import yaml

        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        try:
            document = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
        except json.JSONDecodeError as error:
            raise OverridesError(f"{path}: not valid JSON ({error})") from None
        except yaml.YAMLError as error:
            raise OverridesError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
        except RecursionError:  # both parsers recurse: nesting past the stack
            raise OverridesError(f"{path}: not usable {kind} (nested too deeply)") from None
        except ValueError as error:  # a number of 5,000 digits
            raise OverridesError(f"{path}: not usable {kind} ({str(error)[:200]})") from None
        return cls(document, where=str(path))

    def _check_keys(self, mapping, allowed, prefix):
        unknown = sorted(str(k) for k in mapping if k not in allowed)
        if unknown:
            raise OverridesError(f"{self.where}: {prefix}{unknown[0]}: unknown key (expected one of {', '.join(sorted(allowed))})")

    def _entries(self, mapping, path, names=None):
        if mapping is None:
            return {}
        if not isinstance(mapping, dict):
            raise OverridesError(f"{self.where}: {path}: expected a mapping")
        entries = {}
        for key, value in mapping.items():
            key = str(key)
            if names is not None and key not in names:
                raise OverridesError(f"{self.where}: {path}.{key}: unknown category (expected one of {', '.join(names)})")
            entries[key] = self._entry(value, f"{path}.{key}")
        return entries

    def _entry(self, value, path):
        if isinstance(value, str):
            value = {"action": value}
        if not isinstance(value, dict):
            raise OverridesError(f"{self.where}: {path}: expected an action or a mapping with `action`")
        self._check_keys(value, {"action", "per_minute", "reason"}, f"{path}.")
        action = value.get("action")
        if action not in ACTIONS:
            raise OverridesError(f"{self.where}: {path}: unknown action {action!r} (expected one of {', '.join(ACTIONS)})")
        per_minute = value.get("per_minute")
        if per_minute is not None and (not isinstance(per_minute, int) or isinstance(per_minute, bool) or per_minute < 1):
            raise OverridesError(f"{self.where}: {path}.per_minute: expected a whole number of calls, 1 or more")
        if per_minute is not None and action != "allow":
            raise OverridesError(f"{self.where}: {path}.per_minute: only an `allow` can be rate-limited")
        reason = value.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise OverridesError(f"{self.where}: {path}.reason: expected text")
        rule = _rule(action, per_minute)
        if reason:
            rule = replace(rule, says=f"{rule.says} ({reason})")
        return rule, path

    def lookup(self, server, tool, category):
        """(rule, where it was set, whether it names this very tool) or None."""
        server_categories, server_tools = self.servers.get(server, ({}, {}))
        self._servers_met.add(server)
        for entries in (server_tools, self.tools):
            if tool in entries:
                self._tools_met.add(entries[tool][1])
        for entries, key, exact in ((server_tools, tool, True), (server_categories, category, False),
                                    (self.tools, tool, True), (self.categories, category, False)):
            if key in entries:
                rule, path = entries[key]
                return rule, path, exact
        return None


    def unmatched(self, whole_catalogue):
        """Entries that named nothing, as "servers.x.tools.y: ..." lines: a tool a server met does not
        have; with `whole_catalogue` (every server was decided), servers and tools nowhere in it too.
        A typo in an overrides file otherwise changes nothing, in silence."""
        lines = []
        for name, (_, tools) in self.servers.items():
            if name not in self._servers_met:
                if whole_catalogue:
                    lines.append(f"servers.{name}: no such server in the catalogue")
                continue
            lines += [f"{path}: {name} has no tool {tool}" for tool, (_, path) in tools.items()
                      if path not in self._tools_met]
        if whole_catalogue:
            lines += [f"{path}: no server in the catalogue has a tool {tool}" for tool, (_, path) in self.tools.items()
                      if path not in self._tools_met]
        return lines


# Profiles that break every toxic flow by holding back its channel out (classifier.grades).
BREAKS_FLOWS = {"balanced", "strict"}


def _flow_rule(rule, flow, profile):
    """The rule of a tool that is the channel out of a toxic flow, under `profile`."""
    from ..classifier.grades import flow_reason

    why = flow_reason(flow)
    if profile not in BREAKS_FLOWS:
        return replace(rule, says=f"{rule.says}; leaves a toxic flow open ({flow.describe(with_server=True)}), "
                                  f"as profile {profile} does")
    if rule.action == "allow":
        return replace(_rule("ask"), says=f"{_rule('ask').says}: {why}")
    return replace(rule, says=f"{rule.says}; this also {why}")


def decide(server, tools, profile="balanced", overrides=None, flows=None):
    """A Decision per tool (rows with tool, category, risk, confidence, flags, evidence, hash).

    `flows`: the toxic flows (classifier.grades.Flow) whose channel out is one of these tools; by
    default those inside this server, found from the tools' flags. Balanced and strict put each
    channel behind a human's approval (formats that cannot ask deny it); permissive says it leaves it."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    if flows is None:
        from ..classifier.grades import grade_server

        flows = grade_server(tools, server).flows
    channels = {}
    for flow in flows:
        if flow.out.server == server:
            channels.setdefault(flow.out.tool, flow)
    table = PROFILES[profile]
    decisions = []
    # A tool with suspicious instructions comes first: the one thing a reviewer of the reasons must see.
    for tool in sorted(tools, key=lambda t: ("suspicious_instructions" not in (t.get("flags") or []), t["tool"])):
        category = tool.get("category")
        flags = tool.get("flags") or []
        evidence = [e for e in (tool.get("evidence") or []) if not e.startswith("against:")][:2]
        why = f" ({'; '.join(evidence)})" if evidence else ""
        label = f"{category}, {tool.get('risk') or 'unknown'} risk{why}" if category else f"not yet classified{why}"
        rule, source = table.get(category, UNCLASSIFIED), f"profile {profile}"
        if "suspicious_instructions" in flags:
            rule = SUSPICIOUS
        elif tool["tool"] in channels:
            rule = _flow_rule(rule, channels[tool["tool"]], profile)
        found = overrides.lookup(server, tool["tool"], category) if overrides else None
        # Only an override naming this very tool may un-hide a tool with suspicious instructions.
        if found and ("suspicious_instructions" not in flags or found[2]):
            rule, path, _ = found
            source = f"override {path}"
        decisions.append(Decision(
            tool=tool["tool"], action=rule.action, per_minute=rule.per_minute, approval=rule.approval,
            category=category, risk=tool.get("risk"), confidence=tool.get("confidence"), hash=tool.get("hash"),
            reason=f"{label}: {'denied' if rule is UNCLASSIFIED else rule.says} [{source}]", source=source,
        ))
    return decisions


def reads_allowed(server, profile="balanced", overrides=None):
    """Whether the server's prompts and resources may be read: they are reads, so they follow the
    `read` category's rule (allowed in every profile) unless an override for `read` says otherwise.
    For formats that govern more than tools (ToolHive's Cedar: get_prompt, read_resource)."""
    rule = PROFILES[profile]["read"]
    found = overrides.lookup(server, None, "read") if overrides else None
    if found:
        rule = found[0]
    return rule.action == "allow"
