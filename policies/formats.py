"""Render decisions as the policy files that gateways and clients read, and check what we render.

Each format expresses the four actions as closely as it can: a format that cannot ask a human for
approval denies instead; one that cannot rate-limit (policylayer's documented shape, claude, cedar)
allows without the limit, and says so (in its sidecar or a comment; the CLI warns).

  policylayer  PolicyLayer hosted policy.json: default deny, `hide`, `tools` (no limits: see below)
  intercept    PolicyLayer Intercept YAML: default deny, `hide`, `tools.<name>.rules`
  claude       Claude Code settings.json `permissions` with mcp__<server>__<tool> entries
  cedar        ToolHive Cedar authorization config: default deny, one `permit` per allowed tool,
               prompts and resources permitted when reads are

Reasons and the definition hash of every decided tool travel under `x-mcp-risk` where the format's
reader ignores unknown keys (Intercept's loader, ToolHive's Cedar config). PolicyLayer's documented
shape has no place for them and Claude Code's settings are the user's own file, so for these two they
go in a sidecar file (`<name>.mcp-risk.json`).
"""

import json
import re

GENERATOR = "mcp-risk"
FORMATS = ("policylayer", "intercept", "claude", "cedar")
EXTENSIONS = {"policylayer": ".json", "intercept": ".yaml", "claude": ".json", "cedar": ".json"}
SIDECAR = ".mcp-risk.json"


class PolicyFormatError(ValueError):
    """A generated policy that does not follow its format's rules."""


def pretty_json(document):
    """JSON with one line per top-level key and per entry of a top-level object: as easy to read and
    diff as indent=2, but written by the C encoder (indent=2 falls back to pure Python, 10x slower)."""
    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    lines = []
    for i, (key, value) in enumerate(document.items()):
        comma = "," if i < len(document) - 1 else ""
        if isinstance(value, dict) and value:
            inner = [f"    {compact(k)}: {_nested(v, compact)}" for k, v in value.items()]
            lines.append(f"  {compact(key)}: {{\n" + ",\n".join(inner) + f"\n  }}{comma}")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}{comma}")
    return "{\n" + "\n".join(lines) + "\n}\n"


def _nested(value, compact):
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        # `decisions` and the like: one line per entry, indented once more
        inner = [f"      {compact(k)}: {compact(v)}" for k, v in value.items()]
        return "{\n" + ",\n".join(inner) + "\n    }"
    return compact(value)


def meta(server, profile, decisions, fmt, classifier_versions=()):
    return {
        "generator": GENERATOR,
        "server": server,
        "profile": profile,
        "format": fmt,
        "classifier": sorted(set(classifier_versions)),
        "decisions": {d.tool: d.as_dict() for d in decisions},
    }


# -- PolicyLayer hosted policy.json ---------------------------------------------------------------
# Only the keys PolicyLayer documents (https://policylayer.com/docs/writing-policies, "Policy shape"):
# `version` ("1", required), `default` ("allow"/"deny", required), `hide` (names; the wildcard "*" hides
# everything), `all_tools.limits`, and `tools[name]` with `require`, `deny_if`, `limits`, where `{}` under
# `default: deny` allows the tool. The page shows `limits` only as `[]` and never the shape of one limit, so
# no limit is written: a rate-limited tool is allowed as `{}`, and its limit, with every reason and pin,
# goes to the sidecar (`<name>.mcp-risk.json`), as for Claude Code.
POLICYLAYER_KEYS = {"version", "default", "hide", "all_tools", "tools"}
POLICYLAYER_TOOL_KEYS = {"require", "deny_if", "limits"}


def policylayer(server, profile, decisions, info):
    tools, hide, unlimited = {}, [], []
    for d in decisions:
        if d.tool == "*":
            # "*" in `hide` hides every tool, and in `tools` could be read the same way: a tool of that
            # name is left unlisted, so `default: deny` denies it (the sidecar says so).
            continue
        if d.action == "hide":
            hide.append(d.tool)
        elif d.action == "allow":
            tools[d.tool] = {}
            if d.per_minute:
                unlimited.append(d.tool)
        # ask and deny: not listed, so `default: deny` denies them (the format has no approval step)
    document = {"version": "1", "default": "deny", "hide": hide, "tools": tools}
    notes = {"not_expressed": {
        "rate_limits": "policy.json's documented shape has no limit entry: these tools are allowed without one",
        "rate_limited_tools": unlimited,
        "approval": "policy.json cannot ask a human: tools allowed only with approval are denied",
    }}
    if any(d.tool == "*" for d in decisions):
        notes["not_expressed"]["wildcard_name"] = 'a tool named "*" cannot be named alone (it means every tool): it is denied'
    return pretty_json(document), pretty_json(dict(info, **notes))


def _check_head(document, *, intercept):
    """What PolicyLayer's policy.json and Intercept's YAML both require: version "1", a default, and
    a hide list of distinct tool names without "*". Intercept also reads an empty `hide:` (null) as
    no list, and refuses blank names. Returns the hide list."""
    _expect(document.get("version") == "1", 'version must be "1"')
    _expect(document.get("default") in ("allow", "deny"), 'default must be "allow" or "deny"')
    hide = document.get("hide", [])
    if intercept and hide is None:
        hide = []
    _expect(isinstance(hide, list) and all(isinstance(h, str) and (h.strip() if intercept else h) for h in hide),
            "hide must list tool names" + (", none of them blank" if intercept else ""))
    _expect("*" not in hide, 'hide must not hold "*": it hides every tool')
    _expect(len(hide) == len(set(hide)), "hide has duplicates")
    return hide


def check_policylayer(text):
    document = _json(text)
    _expect(set(document) <= POLICYLAYER_KEYS, f"undocumented keys: {sorted(set(document) - POLICYLAYER_KEYS)}")
    hide = _check_head(document, intercept=False)
    tools = document.get("tools", {})
    _expect(isinstance(tools, dict), "tools must be an object")
    _expect("*" not in tools, 'tools must not name "*"')
    for name, entry in tools.items():
        _expect(isinstance(entry, dict) and set(entry) <= POLICYLAYER_TOOL_KEYS, f"tools.{name}: unknown keys")
    _expect(not set(hide) & set(tools), "a tool is both hidden and allowed")
    return document


# -- Intercept YAML -------------------------------------------------------------------------------
# As PolicyLayer/Intercept's loader reads it (internal/config/config.go, validate.go; see
# tests/intercept_rules.py for the rules mirrored line by line): `rate_limit: N/window` is desugared into
# a counter at `state.<tool>._rate_<window>`, and the validator splits that path on dots to find the tool
# again, so a tool whose name holds a dot cannot be rate-limited: the whole file would be refused.
# Unknown top-level keys (`x-mcp-risk`) are ignored by its yaml.v3 Unmarshal into a struct.
def _yaml():
    import yaml

    # libyaml's C parser when PyYAML was built with it: the pure-Python one is several times slower.
    return yaml, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def intercept(server, profile, decisions, info):
    """(the policy as a document, its YAML text, None)."""
    tools, hide = {}, []
    for d in decisions:
        if d.tool == "*":
            # Intercept reads "*" as every tool: a tool of that name cannot be addressed alone.
            continue
        action = d.action
        if action == "hide" and not d.tool.strip():
            action = "deny"  # Intercept refuses a blank entry in `hide`; a deny rule still blocks it
        if action == "hide":
            hide.append(d.tool)
        elif action == "allow" and d.per_minute and "." in d.tool:
            tools[d.tool] = _deny_rule(d, f"{d.tool} is denied: Intercept cannot rate-limit a tool whose name "
                                          f"has a dot, and the policy allows it only at {d.per_minute} calls a minute."
                                          f" Decision: {d.reason}")
        elif action == "allow":
            rules = []
            if d.per_minute:
                rules.append({"name": f"rate limit ({d.category})", "rate_limit": f"{d.per_minute}/minute",
                              "on_deny": f"{d.tool} is limited to {d.per_minute} calls a minute; try again later."})
            tools[d.tool] = {"rules": rules}
        elif action == "ask":
            tools[d.tool] = _deny_rule(d, f"{d.tool} is denied: the policy allows it only with a human's approval of"
                                          f" each call, which Intercept cannot ask for. Decision: {d.reason}")
        else:
            tools[d.tool] = _deny_rule(d, f"{d.tool} is denied. Decision: {d.reason}")
    asked = [d for d in decisions if d.action == "ask"]
    recommended = [d for d in decisions if d.action == "allow" and d.approval == "recommended"]
    description = f"Recommended policy for MCP server {server} (mcp-risk, {profile} profile)."
    if asked or recommended:
        description += (f" Intercept cannot ask a human for approval: {_count(asked, 'tool that needs', 'tools that need')}"
                        f" it for each call {'is' if len(asked) == 1 else 'are'} denied, and the approval recommended for"
                        f" {_count(recommended, 'allowed tool', 'allowed tools')} is not asked for.")
    lines = ['version: "1"', f"description: {yaml_json(description)}", "default: deny"]
    lines += ["hide:", *(f"- {yaml_json(name)}" for name in hide)] if hide else ["hide: []"]
    lines += ["tools:"] if tools else ["tools: {}"]
    for name, entry in tools.items():
        key = yaml_json(name)
        # YAML reads a key written plainly only up to 1024 characters; a longer one takes `? key` / `:`.
        lines += [f"  ? {key}", "  :"] if len(key) > 1000 else [f"  {key}:"]
        if not entry["rules"]:
            lines.append("    rules: []")
            continue
        lines.append("    rules:")
        for rule in entry["rules"]:
            for i, (key, value) in enumerate(rule.items()):
                lines.append(f"    {'-' if i == 0 else ' '} {key}: {yaml_json(value)}")
    if any(len(tool) > 300 and len(yaml_json(tool)) > 1000 for tool in info["decisions"]):
        # A flow mapping's plain keys too are read only up to 1024 characters: PyYAML's emitter writes
        # a longer one as `? key`, which is not JSON (so pins() reads these few files as YAML).
        yaml, _ = _yaml()
        pins = yaml.dump({"x-mcp-risk": info}, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                         allow_unicode=False, sort_keys=False, width=1 << 30)
    else:
        pins = INTERCEPT_PINS + yaml_json(info) + "\n"
    document = {"version": "1", "description": description, "default": "deny", "hide": hide, "tools": tools}
    return document, "\n".join(lines) + "\n" + pins, None


# Written line by line, every scalar double-quoted the way JSON quotes it (with what YAML would not read
# as it is escaped too): a name can never be read as anything but itself, `yes`, `~`, `*a` and NEL
# (U+0085, which PyYAML's own emitter once wrote raw and read back as a line break) included. The
# pins go last, on one line, as JSON that is also YAML: a flow mapping to YAML (what Intercept's
# yaml.v3 skips, as the key is none of its own), written by the C encoder and read back by json.loads.
# PyYAML's pure-Python representer and constructor took ~10 ms a server.
INTERCEPT_PINS = "x-mcp-risk: "
# What YAML will not read as it is in a quoted scalar (non-printable, or a line break to it); JSON has
# already escaped what is below U+0020, and every character past U+FFFF is printable to YAML.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_json(value):
    """JSON text that YAML parsers read as the same value."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _split_pins(text):
    """(the policy, the pins' JSON or None) of an Intercept file we wrote."""
    head, found, tail = text.rpartition("\n" + INTERCEPT_PINS)
    if found and "\n" not in tail.rstrip("\n"):
        return head + "\n", tail
    return text, None


def _deny_rule(d, message):
    return {"rules": [{"name": f"deny ({d.category or 'unclassified'})", "action": "deny", "on_deny": message}]}


# Matched whole (fullmatch): a `$` also matches before a final newline, which let a tool named
# "x\n" into a Cedar permit that its own check then refused, failing the whole export.
_RATE = re.compile(r"[1-9][0-9]*/(minute|hour|day)")


def check_intercept(text):
    """The policy in `text`, read as Intercept's YAML loader reads it, checked against its rules."""
    yaml, loader = _yaml()
    policy, pinned = _split_pins(text)
    try:
        document = yaml.load(policy, Loader=loader)
    except yaml.YAMLError as error:
        raise PolicyFormatError(f"not valid YAML: {error}") from None
    _expect(isinstance(document, dict), "a policy is a mapping")
    if pinned is not None:
        try:
            document["x-mcp-risk"] = json.loads(pinned)
        except ValueError:
            raise PolicyFormatError("x-mcp-risk: not the JSON mcp-risk writes") from None
    return check_intercept_rules(document)


def check_intercept_rules(document):
    """An Intercept policy, as a document, checked against the rules its loader enforces."""
    _check_head(document, intercept=True)
    for name, entry in (document.get("tools") or {}).items():
        _expect(isinstance(entry, dict) and set(entry) == {"rules"}, f"tools.{name}: expected rules")
        for rule in entry["rules"]:
            _expect(isinstance(rule.get("name"), str) and rule["name"], f"tools.{name}: a rule must have a name")
            action = rule.get("action", "evaluate")
            _expect(action in ("evaluate", "deny"), f"tools.{name}: unknown action {action}")
            if action == "deny":
                _expect("conditions" not in rule and "rate_limit" not in rule, f"tools.{name}: deny rules take no conditions")
            else:
                _expect(bool(_RATE.fullmatch(str(rule.get("rate_limit", "")))) or rule.get("conditions"),
                        f"tools.{name}: evaluate rules need a rate_limit or conditions")
                _expect("rate_limit" not in rule or "." not in str(name),
                        f"tools.{name}: Intercept cannot rate-limit a name with a dot")
    return document


# -- Claude Code settings.json --------------------------------------------------------------------
# Claude Code names an MCP tool `mcp__<server>__<tool>`, each part through its normalizeNameForMCP:
# `name.replace(/[^a-zA-Z0-9_-]/g, "_")`, a JavaScript regex without the `u` flag, so it replaces each
# UTF-16 code unit: a character past U+FFFF (an emoji) becomes two underscores.
_CLAUDE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
CLAUDE_ENTRY = re.compile(r"mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+")
CLAUDE_LISTS = ("allow", "ask", "deny")
_CLAUDE_RANK = {kind: rank for rank, kind in enumerate(CLAUDE_LISTS)}  # deny wins, then ask


def claude_name(part):
    """A server or tool name as Claude Code spells it in permission rules."""
    return _CLAUDE_UNSAFE.sub(lambda m: "__" if ord(m.group()) > 0xFFFF else "_", part) or "_"


_AFFIXES = re.compile(r"^(?:mcp-server-|server-|mcp-)|(?:-mcp-server|-server-mcp|-mcp|-server)$", re.I)


def guess_claude_key(server):
    """A guess at a catalogue server's key in a user's Claude Code config (`.mcp.json` `mcpServers`):
    the last part of its name without "mcp"/"server" affixes (`github/github-mcp-server` -> `github`,
    `modelcontextprotocol/server-filesystem` -> `filesystem`). Only a guess: callers warn."""
    last = server.rstrip("/").rsplit("/", 1)[-1]
    return _AFFIXES.sub("", last) or last or server


def claude_prefix(server_key):
    return f"mcp__{claude_name(server_key)}__"


def claude(server, profile, decisions, info, server_as=None):
    server_as = server_as or guess_claude_key(server)
    prefix = claude_prefix(server_as)
    chosen = {}  # rule -> list; two tools Claude Code names alike get the stricter of their two rules
    unlimited = []
    for d in decisions:
        entry = prefix + claude_name(d.tool)
        if d.action == "allow":
            # Claude Code cannot rate-limit; an approval recommendation becomes a question.
            kind = "ask" if d.approval == "recommended" else "allow"
            if d.per_minute:
                unlimited.append(d.tool)
        else:
            kind = "ask" if d.action == "ask" else "deny"
        if _CLAUDE_RANK[kind] > _CLAUDE_RANK.get(chosen.get(entry), -1):
            chosen[entry] = kind
    permissions = {kind: [e for e, k in chosen.items() if k == kind] for kind in CLAUDE_LISTS}
    info = dict(info, claude_server=server_as, claude_prefix=prefix,
                not_expressed={"rate_limits": "Claude Code cannot rate-limit: these tools are allowed without a limit",
                               "rate_limited_tools": unlimited})
    return pretty_json({"permissions": permissions}), pretty_json(info)


def check_claude(text):
    document = _json(text)
    _expect(set(document) == {"permissions"}, "settings hold only `permissions`")
    permissions = document["permissions"]
    _expect(set(permissions) <= set(CLAUDE_LISTS), "permissions hold allow, ask and deny")
    seen = set()
    for kind, entries in permissions.items():
        for entry in entries:
            _expect(bool(CLAUDE_ENTRY.fullmatch(entry)), f"{kind}: {entry!r} is not an mcp__<server>__<tool> name")
            _expect(entry not in seen, f"{entry!r} is in more than one list, or twice")
            seen.add(entry)
    return document


def merge_claude_settings(existing, ours, prefix):
    """`ours` (our settings document) merged into the user's `existing` settings text: every other key
    and rule kept, only the rules for this server's tools (`<prefix><tool>`) replaced. Raises
    PolicyFormatError if `existing` is not a settings object."""
    document = _json(existing)
    permissions = document.get("permissions", {})
    _expect(isinstance(permissions, dict), "its `permissions` is not an object")
    merged = dict(permissions)
    for kind in CLAUDE_LISTS:
        theirs = permissions.get(kind, [])
        _expect(isinstance(theirs, list), f"its `permissions.{kind}` is not a list")
        kept = [e for e in theirs if not (isinstance(e, str) and e.startswith(prefix) and len(e) > len(prefix))]
        merged[kind] = kept + [e for e in ours["permissions"][kind] if e not in kept]
    return json.dumps(dict(document, permissions=merged), indent=2, ensure_ascii=False) + "\n"


# -- ToolHive Cedar -------------------------------------------------------------------------------
# ToolHive's authorizer asks Cedar about `Action::"call_tool"` on `Tool::"<name>"`, `Action::"get_prompt"`
# on `Prompt::"<name>"` and `Action::"read_resource"` on `Resource::"<uri>"`; it refuses a config with no
# policy at all, so a server with nothing allowed gets one that permits nothing.
NO_OP = "forbid(principal, action, resource) when { false };"
_CEDAR_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def cedar_string(text):
    """`text` as a Cedar string literal: quotes and backslashes escaped, every other control
    character (and anything a terminal could misread) as `\\u{..}`, so no name is ever left out."""
    out = []
    for char in text:
        if char in _CEDAR_ESCAPES:
            out.append(_CEDAR_ESCAPES[char])
        elif ord(char) < 0x20 or 0x7f <= ord(char) < 0xa0 or char in _INVISIBLE:
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# Bidi controls, zero-width characters and line/paragraph separators: kept out of the file as text.
_INVISIBLE = set("\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
                 "\u2066\u2067\u2068\u2069\ufeff")
_CEDAR_LITERAL = r'"(?:[^"\\\x00-\x1f\x7f]|\\["\\nrt0]|\\u\{[0-9a-f]{1,6}\})*"'
CEDAR_PERMIT = re.compile(r'permit\(principal, action == Action::"call_tool", resource == Tool::' + _CEDAR_LITERAL + r'\);')
CEDAR_READS = ('permit(principal, action == Action::"get_prompt", resource);',
               'permit(principal, action == Action::"read_resource", resource);')


def cedar(server, profile, decisions, info, reads=True):
    permits, limited, approval, unlisted = [], [], [], []
    for d in decisions:
        if d.action == "allow":
            permits.append(f'permit(principal, action == Action::"call_tool", resource == Tool::{cedar_string(d.tool)});')
            if d.per_minute:
                limited.append(d.tool)
            if d.approval == "recommended":
                approval.append(d.tool)
        elif d.action == "ask":
            unlisted.append(d.tool)
        # deny and hide: no permit, so Cedar's default deny refuses the call
    policies = permits + (list(CEDAR_READS) if reads else [])
    notes = ["// mcp-risk " + profile + " profile for MCP server " + _comment(server) + ": default deny; only what is permitted here runs.",
             "// Cedar cannot express rate limits or a human's approval of each call:"]
    notes.append(f"// - not enforced: the rate limit of {_count(limited, 'permitted tool', 'permitted tools')},"
                 f" the recommended approval of {_count(approval, 'permitted tool', 'permitted tools')};")
    notes.append(f"// - denied instead: {_count(unlisted, 'tool', 'tools')} allowed only with a human's approval of each call.")
    notes.append("// Prompts and resources are " + ("permitted (reads)." if reads else "denied (reads are not allowed)."))
    if not policies:
        policies = [NO_OP]
    policies[0] = "\n".join(notes) + "\n" + policies[0]
    document = {
        "version": "1.0",
        "type": "cedarv1",
        "cedar": {"policies": policies, "entities_json": "[]"},
        "x-mcp-risk": info,
    }
    return pretty_json(document), None


def _count(items, one, many):
    return f"{len(items)} {one if len(items) == 1 else many}"


def _comment(text):
    """A name inside a `//` comment: on one line, nothing that could end the comment."""
    return cedar_string(text)


def check_cedar(text):
    document = _json(text)
    _expect(document.get("version") == "1.0" and document.get("type") == "cedarv1", "version 1.0, type cedarv1")
    cedar_block = document.get("cedar")
    _expect(isinstance(cedar_block, dict) and cedar_block.get("entities_json") == "[]", "cedar.entities_json")
    policies = cedar_block.get("policies")
    _expect(isinstance(policies, list) and policies, "ToolHive needs at least one policy")
    for policy in policies:
        body = "\n".join(line for line in policy.split("\n") if not line.startswith("// "))
        _expect(bool(CEDAR_PERMIT.fullmatch(body)) or body in CEDAR_READS or body == NO_OP,
                f"not a form mcp-risk writes: {policy!r}")
    return document


CHECK = {"policylayer": check_policylayer, "intercept": check_intercept, "claude": check_claude, "cedar": check_cedar}


def render(fmt, server, profile, decisions, classifier_versions=(), server_as=None, reads=True):
    """(policy text, sidecar text or None), checked against the format's rules before it is returned."""
    info = meta(server, profile, decisions, fmt, classifier_versions)
    if fmt == "claude":
        text, sidecar = claude(server, profile, decisions, info, server_as)
    elif fmt == "cedar":
        text, sidecar = cedar(server, profile, decisions, info, reads)
    elif fmt == "intercept":
        # The rules are checked on the document the text was written from: reading 2,567 files back
        # with PyYAML's (Python) constructor took a third of an export. That the text reads back as
        # this document is the writer's promise, held by the tests that parse every file they render,
        # hostile names included (check_intercept).
        document, text, sidecar = intercept(server, profile, decisions, info)
        check_intercept_rules(document)
        return text, sidecar
    else:
        text, sidecar = policylayer(server, profile, decisions, info)
    CHECK[fmt](text)
    return text, sidecar


def pins(text):
    """The `x-mcp-risk` block of a policy we wrote (or of its sidecar): server, decisions with hashes."""
    # A policy file may have been edited by anyone: every way it can fail to parse, and every value
    # of the wrong type, is a PolicyFormatError, never a crash further on in `mcp-risk diff`.
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = _intercept_pins(text)
        if document is None:
            import yaml

            try:
                document = yaml.safe_load(text)
            except (yaml.YAMLError, ValueError, RecursionError):
                document = None
    except (ValueError, RecursionError):  # a 5,000-digit number; nesting past the stack
        document = None
    if isinstance(document, dict) and isinstance(document.get("x-mcp-risk"), dict):
        document = document["x-mcp-risk"]
    if not (isinstance(document, dict) and isinstance(document.get("decisions"), dict)
            and isinstance(document.get("server"), str) and document["server"]):
        raise PolicyFormatError("no mcp-risk pins in it (an `x-mcp-risk` block with `server` and `decisions`)")
    from ..crawler.manifest import ManifestError, check_json

    try:  # half a surrogate pair (a `\ud800` escape) cannot be looked up, stored or printed
        check_json({"server": document["server"], "decisions": document["decisions"]}, "x-mcp-risk")
    except ManifestError as error:
        raise PolicyFormatError(str(error)) from None
    for tool, decision in document["decisions"].items():
        _expect(isinstance(tool, str) and isinstance(decision, dict)
                and all(isinstance(decision.get(k), (str, type(None))) for k in ("action", "category", "risk", "hash")),
                f"decisions.{str(tool)[:80]!r}: expected an object with text action, category, risk and hash")
    return document


def _intercept_pins(text):
    """The pins line of an Intercept file as we write it, read as JSON; None if there is none."""
    _, pinned = _split_pins(text)
    try:
        document = json.loads(pinned) if pinned is not None else None
    except (ValueError, RecursionError):
        return None
    return {"x-mcp-risk": document} if isinstance(document, dict) else None


def _json(text):
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyFormatError(f"not valid JSON: {error}") from None
    _expect(isinstance(document, dict), "a policy is an object")
    return document


def _expect(condition, message):
    if not condition:
        raise PolicyFormatError(message)
