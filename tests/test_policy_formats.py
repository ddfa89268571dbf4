"""Every policy format, profile and override: what each file says, and that it follows its format."""

import json
import re

import pytest
import yaml

from mcp_risk.policies.decisions import Overrides, OverridesError, decide
from mcp_risk.policies.formats import CHECK, PolicyFormatError, render
from conftest import run

FS = "modelcontextprotocol/server-filesystem"


def tools_of(*rows):
    return [{"tool": t, "category": c, "risk": {"read": "low", "write": "medium", "execute": "high"}.get(c, "critical"),
             "flags": f, "evidence": [f"evidence for {t}"], "hash": f"hash-{t}", "confidence": 0.9} for t, c, f in rows]


DEMO = tools_of(("get", "read", []), ("post", "write", []), ("run", "execute", []), ("drop", "destructive", []),
                ("pay", "financial", []), ("sneaky", "read", ["suspicious_instructions"]))


def actions(server, tools, profile="balanced", overrides=None):
    return {d.tool: (d.action, d.per_minute) for d in decide(server, tools, profile, overrides)}


def test_profiles():
    assert actions("demo", DEMO) == {"drop": ("hide", None), "get": ("allow", None), "pay": ("ask", None),
                                     "post": ("allow", 30), "run": ("allow", 10), "sneaky": ("hide", None)}
    assert actions("demo", DEMO, "strict") == {"drop": ("hide", None), "get": ("allow", None), "pay": ("hide", None),
                                               "post": ("ask", None), "run": ("deny", None), "sneaky": ("hide", None)}
    assert actions("demo", DEMO, "permissive") == {"drop": ("ask", None), "get": ("allow", None), "pay": ("ask", None),
                                                   "post": ("allow", None), "run": ("allow", 30), "sneaky": ("hide", None)}


def test_overrides_most_specific_first_and_say_so():
    overrides = Overrides({
        "categories": {"execute": "deny", "read": {"action": "allow", "reason": "reads are fine"}},
        "tools": {"post": {"action": "allow", "per_minute": 5}},
        "servers": {"demo": {"categories": {"destructive": "ask"}, "tools": {"run": {"action": "allow", "reason": "reviewed"}}},
                    "other": {"tools": {"get": "deny"}}},
    })
    decided = {d.tool: d for d in decide("demo", DEMO, "balanced", overrides)}
    assert (decided["run"].action, decided["run"].per_minute) == ("allow", None)  # server tool beats category
    assert "reviewed" in decided["run"].reason and decided["run"].source == "override servers.demo.tools.run"
    assert decided["drop"].action == "ask"  # server category
    assert (decided["post"].action, decided["post"].per_minute) == ("allow", 5)  # tool anywhere
    assert decided["get"].action == "allow" and "reads are fine" in decided["get"].reason
    # a category override never un-hides a tool with suspicious instructions; only naming the tool does
    assert decided["sneaky"].action == "hide"
    named = Overrides({"servers": {"demo": {"tools": {"sneaky": "allow"}}}})
    assert actions("demo", DEMO, overrides=named)["sneaky"] == ("allow", None)


@pytest.mark.parametrize(
    "document, says",
    [
        ({"categories": {"dangerous": "deny"}}, "categories.dangerous: unknown category"),
        ({"tools": {"x": "allw"}}, "tools.x: unknown action 'allw'"),
        ({"tools": {"x": {"action": "deny", "per_minute": 3}}}, "only an `allow` can be rate-limited"),
        ({"tools": {"x": {"action": "allow", "per_minute": 0}}}, "per_minute: expected a whole number"),
        ({"servers": {"s": {"tool": {}}}}, "servers.s.tool: unknown key"),
        ({"profile": "strict"}, "profile: unknown key"),
        (["not", "a", "mapping"], "expected a mapping at the top"),
    ],
)
def test_bad_overrides_are_named(document, says):
    with pytest.raises(OverridesError, match=re.escape(says)):
        Overrides(document, where="o.yaml")


def test_overrides_file_through_the_cli(sliced_db, tmp_path):
    good = tmp_path / "overrides.yaml"
    good.write_text(f"servers:\n  {FS}:\n    tools:\n      write_file: {{action: ask, reason: reviewed by ops}}\n")
    assert run("policy", FS, "--overrides", good, "-o", tmp_path / "p.json", "--db", sliced_db).exit_code == 0
    policy = json.loads((tmp_path / "p.json").read_text())
    decision = json.loads((tmp_path / "p.mcp-risk.json").read_text())["decisions"]["write_file"]
    assert decision["action"] == "ask" and "reviewed by ops" in decision["reason"]
    assert "write_file" not in policy["hide"] and "write_file" not in policy["tools"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: [unclosed\n")
    result = run("policy", FS, "--overrides", bad, "--db", sliced_db)
    assert result.exit_code == 1 and "bad.yaml: not valid YAML" in result.output


def test_overrides_that_name_nothing_are_warned_of(sliced_db, tmp_path):
    typos = tmp_path / "overrides.yaml"
    typos.write_text(f"tools:\n  run_sqll: deny\n  write_file: ask\n"
                     f"servers:\n  {FS}:\n    tools:\n      write_fille: ask\n      edit_file: ask\n"
                     f"  nosuch/server:\n    categories: {{execute: deny}}\n")
    result = run("policy", FS, "--overrides", typos, "--db", sliced_db)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith(f"warning: {typos}")]
    # One server's policy: only that server's own entries can be judged.
    assert warnings == [f"warning: {typos}: servers.{FS}.tools.write_fille: {FS} has no tool write_fille "
                        "(the rule applies to nothing)"]
    result = run("export-policies", tmp_path / "out", "--overrides", typos, "--db", sliced_db)
    assert result.exit_code == 0, result.output
    warnings = sorted(line for line in result.output.splitlines() if line.startswith(f"warning: {typos}"))
    assert [w.split(": ", 2)[2] for w in warnings] == sorted([
        "servers.nosuch/server: no such server in the catalogue (the rule applies to nothing)",
        f"servers.{FS}.tools.write_fille: {FS} has no tool write_fille (the rule applies to nothing)",
        "tools.run_sqll: no server in the catalogue has a tool run_sqll (the rule applies to nothing)",
    ])


def test_intercept_yaml(sliced_db):
    result = run("policy", FS, "--format", "intercept", "--db", sliced_db)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.output)
    assert document["version"] == "1" and document["default"] == "deny"
    assert "write_file" in document["hide"]
    assert document["tools"]["read_text_file"] == {"rules": []}
    rule = document["tools"]["edit_file"]["rules"][0]
    assert rule["rate_limit"] == "30/minute" and rule["name"]
    assert document["x-mcp-risk"]["decisions"]["write_file"]["hash"]


def test_claude_code_permissions_and_sidecar(sliced_db, tmp_path):
    out = tmp_path / "settings.json"
    result = run("policy", FS, "--format", "claude", "--claude-server", "filesystem", "-o", out, "--db", sliced_db)
    assert result.exit_code == 0, result.output
    settings = json.loads(out.read_text())
    assert set(settings) == {"permissions"}
    assert "mcp__filesystem__read_text_file" in settings["permissions"]["allow"]
    assert "mcp__filesystem__write_file" in settings["permissions"]["deny"]
    for entries in settings["permissions"].values():
        assert all(re.fullmatch(r"mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+", e) for e in entries)
    sidecar = json.loads((tmp_path / "settings.mcp-risk.json").read_text())
    assert sidecar["claude_server"] == "filesystem" and sidecar["decisions"]["write_file"]["action"] == "hide"


def test_cedar_uses_only_the_documented_permit(sliced_db):
    document = json.loads(run("policy", FS, "--format", "cedar", "--db", sliced_db).stdout)
    assert (document["version"], document["type"], document["cedar"]["entities_json"]) == ("1.0", "cedarv1", "[]")
    policies = [p.rpartition("\n")[2] for p in document["cedar"]["policies"]]  # past the leading comment
    assert 'permit(principal, action == Action::"call_tool", resource == Tool::"read_text_file");' in policies
    assert not any("write_file" in p for p in policies)
    assert policies[-2:] == ['permit(principal, action == Action::"get_prompt", resource);',
                             'permit(principal, action == Action::"read_resource", resource);']
    for policy in policies[:-2]:
        assert re.fullmatch(r'permit\(principal, action == Action::"call_tool", resource == Tool::"[^"\\]+"\);', policy)


HOSTILE = tools_of(("*", "read", []), ('say "hi"\\', "read", []), ("../../etc/passwd", "read", []),
                   ("名前", "write", []), ("tab\there", "destructive", []), ("mcp__x__y", "execute", []),
                   ("<script>alert(1)</script>", "read", []))


@pytest.mark.parametrize("fmt", ["policylayer", "intercept", "claude", "cedar"])
def test_hostile_tool_names_stay_inert_in_every_format(fmt):
    text, sidecar = render(fmt, "evil/server\"'", "balanced", decide("evil", HOSTILE))
    CHECK[fmt](text)  # raises PolicyFormatError if the rules of the format are broken
    if fmt == "cedar":
        assert all('"*"' not in p or p.endswith('Tool::"*");') for p in json.loads(text)["cedar"]["policies"])
        assert any('Tool::"say \\"hi\\"\\\\"' in p for p in json.loads(text)["cedar"]["policies"])  # escaped, not left out
    if fmt == "intercept":
        assert "*" not in (yaml.safe_load(text)["tools"] or {})  # "*" would mean every tool
    if fmt == "policylayer":
        document = json.loads(text)
        assert "*" not in document["hide"] and "*" not in document["tools"]
        assert json.loads(sidecar)["decisions"]["*"]["action"] == "allow"
        hidden = render(fmt, "s", "balanced", decide("s", tools_of(("*", "destructive", []))))[0]
        assert json.loads(hidden)["hide"] == []  # never hide ["*"], which hides every tool
    if fmt == "claude":
        assert json.loads(sidecar)["decisions"]["*"]["action"] == "allow"


def test_the_checks_catch_broken_files():
    with pytest.raises(PolicyFormatError):
        CHECK["cedar"](json.dumps({"version": "1.0", "type": "cedarv1", "cedar": {
            "policies": ['permit(principal, action, resource) when { true };'], "entities_json": "[]"}}))
    with pytest.raises(PolicyFormatError):
        CHECK["claude"](json.dumps({"permissions": {"allow": ["mcp__a b__c"]}}))
    with pytest.raises(PolicyFormatError):
        CHECK["intercept"]("version: '1'\ndefault: deny\ntools:\n  x:\n    rules:\n      - action: deny\n")
    with pytest.raises(PolicyFormatError):
        CHECK["policylayer"](json.dumps({"version": "1", "default": "deny", "hide": ["a"], "tools": {"a": {}}}))


@pytest.mark.parametrize("change, says", [
    ({"version": "2"}, 'version must be "1"'),
    ({"default": "ask"}, 'default must be "allow" or "deny"'),
    ({"hide": ["*"]}, 'hide must not hold "*"'),
    ({"hide": ["a", "a"]}, "hide has duplicates"),
    ({"hide": "a"}, "hide must list tool names"),
])
def test_both_policylayer_formats_refuse_a_bad_head(change, says):
    # policy.json and Intercept's YAML share their first rules, and say the same of a break.
    document = {"version": "1", "default": "deny", "hide": ["a"], **change}
    for fmt, text in (("policylayer", json.dumps(document)), ("intercept", json.dumps(document))):  # JSON is YAML
        with pytest.raises(PolicyFormatError, match=re.escape(says)):
            CHECK[fmt](text)


def test_intercept_reads_an_empty_hide_and_refuses_a_blank_name_where_policy_json_differs():
    CHECK["intercept"]("version: '1'\ndefault: deny\nhide:\n")  # yaml.v3 reads it as no list
    with pytest.raises(PolicyFormatError, match="hide must list tool names"):
        CHECK["policylayer"](json.dumps({"version": "1", "default": "deny", "hide": None}))
    with pytest.raises(PolicyFormatError, match="none of them blank"):
        CHECK["intercept"]("version: '1'\ndefault: deny\nhide: [' ']\n")
    CHECK["policylayer"](json.dumps({"version": "1", "default": "deny", "hide": [" "]}))


@pytest.mark.parametrize("fmt, suffix", [("intercept", ".yaml"), ("claude", ".json"), ("cedar", ".json")])
def test_export_in_every_format(sliced_db, tmp_path, fmt, suffix):
    out = tmp_path / fmt
    result = run("export-policies", out, "--format", fmt, "--profile", "strict", "--db", sliced_db)
    assert result.exit_code == 0, result.output
    index = json.loads((out / "_index.json").read_text())
    assert index and all(entry["file"].endswith(suffix) for entry in index)
    for entry in index:
        CHECK[fmt]((out / entry["file"]).read_text())
    if fmt == "claude":
        assert len(list(out.glob("*.mcp-risk.json"))) == len(index)
