"""Every exported format as its consumer reads it: a real Cedar engine (cedarpy, the Rust reference
implementation ToolHive's cedar-go follows), SchemaStore's Claude Code settings schema, and a checker
that mirrors Intercept's own loader and validator line by line."""

import json

import cedarpy
import pytest

from mcp_risk.policies.decisions import Overrides, decide, reads_allowed
from mcp_risk.policies.formats import cedar_string, render
from conftest import run

# Names a consumer could misread: quotes, backslashes, wildcards, dots, control and bidi characters,
# an emoji (two UTF-16 units), names that collapse to one another once mangled.
EDGE_NAMES = ["*", 'say "hi"\\', "back\\slash", "alpaca.createWatchlist", "tab\there", "line\nbreak", "名前",
              "rocket🚀", "a.b", "a_b", "a b", "bidi\u202etxt", "../../etc/passwd", "<script>", " ", "get\x85", "yes",
              "~", "x" * 2000]


def edge_tools(category="read"):
    return [{"tool": name, "category": category, "risk": "low", "flags": [], "evidence": ["ev"], "hash": f"h{i}",
             "confidence": 0.9} for i, name in enumerate(EDGE_NAMES)]


MIXED = edge_tools() + [{"tool": t, "category": c, "risk": "high", "flags": [], "evidence": [], "hash": t, "confidence": 0.9}
                        for t, c in (("post", "write"), ("run", "execute"), ("drop", "destructive"), ("pay", "financial"))]


# -- Cedar ----------------------------------------------------------------------------------------
def cedar_decision(document, action, resource):
    policies = "\n".join(document["cedar"]["policies"])
    request = {"principal": 'Client::"agent"', "action": f'Action::"{action}"', "resource": resource, "context": {}}
    result = cedarpy.is_authorized(request, policies, json.loads(document["cedar"]["entities_json"]))
    assert not result.diagnostics.errors, result.diagnostics.errors
    return result.decision == cedarpy.Decision.Allow


def assert_cedar_matches(text, decisions, reads):
    document = json.loads(text)
    policies = "\n".join(document["cedar"]["policies"])
    # The engine parses the whole set, and reads back exactly the names we meant (not our escaper's idea of them).
    parsed = json.loads(cedarpy.policies_to_json_str(policies))
    permitted = {p["resource"]["entity"]["id"] for p in parsed["staticPolicies"].values()
                 if p["effect"] == "permit" and p["resource"]["op"] == "=="}
    assert permitted == {d.tool for d in decisions if d.action == "allow"}
    for d in decisions:
        assert cedar_decision(document, "call_tool", f"Tool::{cedar_string(d.tool)}") == (d.action == "allow"), d
    assert cedar_decision(document, "get_prompt", 'Prompt::"summarise"') == reads
    assert cedar_decision(document, "read_resource", 'Resource::"file:///etc/hosts"') == reads
    assert not cedar_decision(document, "call_tool", 'Tool::"not-a-tool-of-this-server"')


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_cedar_engine_reads_every_edge_case_name(profile):
    decisions = decide("evil", MIXED, profile)
    text, _ = render("cedar", 'evil/"server"\n', profile, decisions, reads=True)
    assert_cedar_matches(text, decisions, reads=True)
    policies = "".join(json.loads(text)["cedar"]["policies"])
    assert "\u202e" not in policies and "🚀" in policies  # bidi controls escaped, plain text kept


def test_cedar_with_nothing_allowed_is_a_valid_policy_that_permits_nothing():
    overrides = Overrides({"categories": {"read": "deny"}})
    decisions = decide("s", MIXED, "strict", overrides)
    assert not any(d.action == "allow" for d in decisions) and not reads_allowed("s", "strict", overrides)
    text, _ = render("cedar", "s", "strict", decisions, reads=False)
    document = json.loads(text)
    assert len(document["cedar"]["policies"]) == 1  # ToolHive refuses an empty list
    assert_cedar_matches(text, decisions, reads=False)


def test_cedar_file_says_what_it_cannot_express():
    text, _ = render("cedar", "s", "balanced", decide("s", MIXED, "balanced"))
    first = json.loads(text)["cedar"]["policies"][0]
    assert "Cedar cannot express rate limits or a human's approval" in first
    assert "not enforced: the rate limit of 2 permitted tools, the recommended approval of 1 permitted tool;" in first
    assert "denied instead: 1 tool allowed only with a human's approval of each call." in first


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_every_exported_cedar_file_loads_in_the_engine(sliced_db, tmp_path, profile):
    out = tmp_path / profile
    result = run("export-policies", out, "--format", "cedar", "--profile", profile, "--db", sliced_db)
    assert result.exit_code == 0
    assert ("Cedar cannot rate-limit" in result.stderr) == (profile != "strict")  # strict has no rate limits
    index = json.loads((out / "_index.json").read_text())
    assert index
    for entry in index:
        text = (out / entry["file"]).read_text()
        document = json.loads(text)
        decisions = document["x-mcp-risk"]["decisions"]
        policies = "\n".join(document["cedar"]["policies"])
        parsed = json.loads(cedarpy.policies_to_json_str(policies))["staticPolicies"].values()
        tools = {p["resource"]["entity"]["id"] for p in parsed if p["resource"]["op"] == "=="}
        assert tools == {t for t, d in decisions.items() if d["action"] == "allow"}, entry["file"]
        assert cedar_decision(document, "read_resource", 'Resource::"r"')


# -- Intercept ------------------------------------------------------------------------------------
from intercept_rules import allowed as intercept_allows, load as intercept_load, validate as intercept_validate  # noqa: E402


def assert_intercept_loads(text, decisions):
    config = intercept_load(text)
    assert intercept_validate(config) == []
    for d in decisions:
        ok, rule, message = intercept_allows(config, d.tool)
        if d.tool == "*":
            continue  # "*" means every tool to Intercept: not addressable alone, denied by default
        if d.action == "allow" and d.per_minute and "." in d.tool:
            assert not ok and "cannot rate-limit a tool whose name has a dot" in message, d
        else:
            assert ok == (d.action == "allow"), (d, rule, message)
    return config


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_intercept_loads_every_edge_case_name(profile):
    tools = MIXED
    writes = [dict(t, tool=t["tool"] + "_w", category="write", hash=t["hash"] + "w") for t in edge_tools()]
    drops = [dict(t, tool=t["tool"] + " ", category="destructive", hash=t["hash"] + "d") for t in edge_tools()[:3]]
    decisions = decide("evil", tools + writes + drops + [dict(MIXED[0], tool=" \t", category="destructive", hash="blank")],
                       profile)
    text, _ = render("intercept", "evil", profile, decisions)
    assert_intercept_loads(text, decisions)


def test_intercept_cannot_rate_limit_a_dotted_name_and_says_so():
    decisions = decide("alpaca", [dict(MIXED[0], tool="alpaca.createWatchlist", category="write")], "balanced")
    config = assert_intercept_loads(render("intercept", "alpaca", "balanced", decisions)[0], decisions)
    ok, _, message = intercept_allows(config, "alpaca.createWatchlist")
    assert not ok and message.startswith("alpaca.createWatchlist is denied: Intercept cannot rate-limit a tool whose name"
                                         " has a dot, and the policy allows it only at 30 calls a minute.")
    # What would happen otherwise: Intercept refuses the whole file
    broken = "version: '1'\ndefault: deny\ntools:\n  alpaca.createWatchlist:\n    rules:\n    - {name: limit, rate_limit: 30/minute}\n"
    assert intercept_validate(intercept_load(broken)) == [
        "tools.alpaca.createWatchlist.rules[0]: condition references state.alpaca.createWatchlist._rate_minute"
        " but no matching state block found"]


def test_the_intercept_mirror_catches_what_intercept_refuses():
    refused = {
        "hide: [' ']": "hide[0]: entry must not be empty",
        "tools: {x: {rules: [{action: deny, rate_limit: 5/minute}]}}": 'rate_limit cannot be used with action "deny"',
        "tools: {x: {rules: [{name: r, action: evaluate}]}}": "evaluate rules must have at least one condition",
        "tools: {x: {rules: [{action: deny}]}}": "rule must have a name",
        "tools: {x: {rules: [{rate_limit: 5/week}]}}": "rate_limit window must be",
    }
    for body, says in refused.items():
        errors = intercept_validate(intercept_load("version: '1'\ndefault: deny\n" + body + "\n"))
        assert any(says in e for e in errors), (body, errors)


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_every_exported_intercept_file_loads(sliced_db, tmp_path, profile):
    out = tmp_path / profile
    assert run("export-policies", out, "--format", "intercept", "--profile", profile, "--db", sliced_db).exit_code == 0
    for entry in json.loads((out / "_index.json").read_text()):
        config = intercept_load((out / entry["file"]).read_text())
        assert intercept_validate(config) == [], entry["file"]


# -- Claude Code ----------------------------------------------------------------------------------
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import jsonschema  # noqa: E402

from mcp_risk.policies.formats import claude_name  # noqa: E402

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "schemastore" / "claude-code-settings.json").read_text())
SETTINGS = jsonschema.Draft7Validator(SCHEMA)


def assert_claude_valid(text):
    document = json.loads(text)
    errors = [f"{list(e.path)}: {e.message}" for e in SETTINGS.iter_errors(document)]
    assert errors == []
    return document


def test_claude_names_are_mangled_as_claude_code_does():
    # normalizeNameForMCP: /[^a-zA-Z0-9_-]/g on UTF-16 code units
    assert claude_name("rocket🚀") == "rocket__"  # one emoji, two code units
    assert claude_name("名前") == "__" and claude_name("a.b c") == "a_b_c" and claude_name("ok-_9") == "ok-_9"
    assert claude_name("e\u0301") == "e_"  # a combining accent is its own code unit


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_claude_settings_validate_against_schemastore_and_merge_duplicates(profile):
    decisions = decide("evil", MIXED, profile)
    text, sidecar = render("claude", "evil", profile, decisions, server_as="my server")
    permissions = assert_claude_valid(text)["permissions"]
    everything = [e for entries in permissions.values() for e in entries]
    assert len(everything) == len(set(everything))  # schema's uniqueItems, and one list per rule
    assert "mcp__my_server__rocket__" in everything
    # "a.b", "a_b", "a b" all become a_b: one rule, the strictest of the three
    assert sum(e == "mcp__my_server__a_b" for e in everything) == 1
    strict = decide("s", [dict(MIXED[0], tool="a.b", category="destructive"), dict(MIXED[0], tool="a_b")], profile)
    merged = json.loads(render("claude", "s", profile, strict, server_as="s")[0])["permissions"]
    expected = "ask" if profile == "permissive" else "deny"  # permissive asks for destructive tools
    assert merged[expected] == ["mcp__s__a_b"] and "mcp__s__a_b" not in merged["allow"]
    assert json.loads(sidecar)["claude_server"] == "my server"


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_every_exported_claude_file_validates(sliced_db, tmp_path, profile):
    out = tmp_path / profile
    result = run("export-policies", out, "--format", "claude", "--profile", profile, "--db", sliced_db,
                 "--claude-server", "modelcontextprotocol/server-filesystem=fs")
    assert result.exit_code == 0, result.output
    index = json.loads((out / "_index.json").read_text())
    for entry in index:
        permissions = assert_claude_valid((out / entry["file"]).read_text())["permissions"]
        assert all(e.startswith(f"mcp__{claude_name(entry['claude_server'])}__") for v in permissions.values() for e in v)
    fs = next(e for e in index if e["server"] == "modelcontextprotocol/server-filesystem")
    assert fs["claude_server"] == "fs" and not fs["claude_server_guessed"]
    guessed = sum(e["claude_server_guessed"] for e in index)
    assert f"the keys in your Claude Code config of {guessed} servers were guessed" in result.stderr
    if profile != "strict":
        assert "Claude Code cannot rate-limit" in result.stderr


def test_claude_settings_merge_into_the_users_file(sliced_db, tmp_path):
    settings = tmp_path / "settings.json"
    theirs = {"$schema": "https://json.schemastore.org/claude-code-settings.json", "model": "opus",
              "permissions": {"allow": ["Bash(npm run *)", "mcp__filesystem__read_text_file", "mcp__other__x"],
                              "deny": ["mcp__filesystem__old_tool"], "defaultMode": "default"},
              "someFutureKey": {"kept": True}}
    settings.write_text(json.dumps(theirs))
    os.chmod(settings, 0o640)
    result = run("policy", FS_SERVER, "--format", "claude", "-o", settings, "--db", sliced_db)
    assert result.exit_code == 0, result.output
    assert "was guessed as 'filesystem'" in result.stderr and "cannot rate-limit" in result.stderr
    merged = assert_claude_valid(settings.read_text())
    assert {k: merged[k] for k in ("$schema", "model", "someFutureKey")} == {k: theirs[k] for k in ("$schema", "model", "someFutureKey")}
    assert merged["permissions"]["defaultMode"] == "default"
    assert "Bash(npm run *)" in merged["permissions"]["allow"] and "mcp__other__x" in merged["permissions"]["allow"]
    assert "mcp__filesystem__old_tool" not in merged["permissions"]["deny"]  # this server's rules are ours
    assert "mcp__filesystem__write_file" in merged["permissions"]["deny"]
    assert merged["permissions"]["allow"].count("mcp__filesystem__read_text_file") == 1
    assert settings.stat().st_mode & 0o777 == 0o640  # the user's file keeps its mode
    # Not a settings object: refused, left as it was, unless --force
    settings.write_text("[1, 2]")
    refused = run("policy", FS_SERVER, "--format", "claude", "-o", settings, "--db", sliced_db)
    assert refused.exit_code == 1 and "cannot merge into it" in refused.output and settings.read_text() == "[1, 2]"
    forced = run("policy", FS_SERVER, "--format", "claude", "-o", settings, "--force", "--db", sliced_db)
    assert forced.exit_code == 0 and set(json.loads(settings.read_text())) == {"permissions"}


FS_SERVER = "modelcontextprotocol/server-filesystem"


# -- File modes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["policylayer", "claude"])
def test_written_policies_respect_the_umask(sliced_db, tmp_path, fmt):
    old = os.umask(0o027)
    try:
        assert run("export-policies", tmp_path / "out", "--format", fmt, "--db", sliced_db).exit_code == 0
        assert run("policy", FS_SERVER, "--format", fmt, "-o", tmp_path / "one.json", "--db", sliced_db).exit_code == 0
    finally:
        os.umask(old)
    files = list((tmp_path / "out").iterdir()) + [tmp_path / "one.json", tmp_path / "one.mcp-risk.json"]
    assert {f.stat().st_mode & 0o777 for f in files} == {0o640}
