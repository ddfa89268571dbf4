"""`scan --policy-dir --policy-format`: every format written for the servers a config runs, each read
back by its consumer's rules (Cedar by the real engine, Intercept YAML by the port of its loader and
validator, Claude Code settings by SchemaStore's schema), Claude rules named by the config's own keys."""

import json
import sys
from pathlib import Path

import cedarpy
import jsonschema
import pytest

from mcp_risk.policies.formats import check_policylayer

from .conftest import TIME_SERVER, needs_time_server, raw_entry, run_cli, sdk_entry, write_config

from intercept_rules import allowed as intercept_allows, load as intercept_load, validate as intercept_validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLAUDE_SETTINGS = jsonschema.Draft7Validator(
    json.loads((FIXTURES / "schemastore" / "claude-code-settings.json").read_text(encoding="utf-8")))
FORMATS = {"policylayer": ".json", "intercept": ".yaml", "claude": ".json", "cedar": ".json"}


def config_servers():
    # Keys that no guess from the server's name would give: `fs` for the filesystem server.
    servers = {"fs": sdk_entry("server-filesystem.json"), "poisoned": raw_entry("injection")}
    if TIME_SERVER.exists():
        servers["clock"] = {"command": str(TIME_SERVER), "args": ["--local-timezone", "UTC"]}  # the real PyPI server
    return servers


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    config = write_config(folder / "mcp.json", config_servers())
    policies = folder / "policies"
    result = run_cli("scan", config, "--db", folder / "c.db", "--policy-dir", policies, "--policy-format", "all",
                     "--format", "json", "--timeout", "30")
    assert result.exit_code == 0, result.output
    tools = {line["server"]: {t["tool"] for t in line["tools"]} for line in map(json.loads, result.stdout.splitlines())}
    return result, policies, tools


def test_every_format_gets_a_folder_with_a_file_per_server(scanned):
    result, policies, tools = scanned
    assert sorted(p.name for p in policies.iterdir()) == sorted(FORMATS)
    for fmt, suffix in FORMATS.items():
        names = sorted(p.name for p in (policies / fmt).iterdir())
        sidecars = fmt in ("policylayer", "claude")
        assert names == sorted(["_index.json"] + [s + suffix for s in tools] +
                               ([s + ".mcp-risk.json" for s in tools] if sidecars else [])), fmt
        assert f"wrote {len(tools)} {fmt} policies to {policies / fmt}" in result.stderr


def test_policylayer_files_follow_the_documented_shape(scanned):
    _, policies, tools = scanned
    for server in tools:
        check_policylayer((policies / "policylayer" / f"{server}.json").read_text())
    fs = json.loads((policies / "policylayer" / "fs.json").read_text())
    assert "write_file" in fs["hide"] and "read_file" in fs["tools"]
    assert {"add", "get_fact_of_the_day"} <= set(json.loads((policies / "policylayer" / "poisoned.json").read_text())["hide"])


def test_intercept_files_load_and_validate_as_intercept_does(scanned):
    _, policies, tools = scanned
    for server in tools:
        config = intercept_load((policies / "intercept" / f"{server}.yaml").read_text())
        assert intercept_validate(config) == [], server
    fs = intercept_load((policies / "intercept" / "fs.yaml").read_text())
    assert intercept_allows(fs, "read_file")[0] and not intercept_allows(fs, "write_file")[0]
    assert not intercept_allows(intercept_load((policies / "intercept" / "poisoned.yaml").read_text()), "add")[0]


def test_cedar_files_parse_and_decide_in_the_real_engine(scanned):
    _, policies, tools = scanned
    for server in tools:
        document = json.loads((policies / "cedar" / f"{server}.json").read_text())
        text = "\n".join(document["cedar"]["policies"])
        json.loads(cedarpy.policies_to_json_str(text))  # raises on a policy the engine cannot parse
        entities = json.loads(document["cedar"]["entities_json"])

        def allows(tool):
            request = {"principal": 'Client::"agent"', "action": 'Action::"call_tool"', "resource": f'Tool::"{tool}"',
                       "context": {}}
            answer = cedarpy.is_authorized(request, text, entities)
            assert not answer.diagnostics.errors, answer.diagnostics.errors
            return answer.decision == cedarpy.Decision.Allow

        if server == "fs":
            assert allows("read_file") and not allows("write_file")
        if server == "poisoned":
            assert not allows("add")


def test_claude_settings_validate_and_use_the_configs_own_keys(scanned):
    result, policies, tools = scanned
    for server in tools:
        document = json.loads((policies / "claude" / f"{server}.json").read_text())
        assert [e.message for e in CLAUDE_SETTINGS.iter_errors(document)] == []
        rules = [rule for kind in ("allow", "ask", "deny") for rule in document["permissions"][kind]]
        assert rules and all(rule.startswith(f"mcp__{server}__") for rule in rules), server
        sidecar = json.loads((policies / "claude" / f"{server}.mcp-risk.json").read_text())
        assert sidecar["claude_server"] == server
    fs = json.loads((policies / "claude" / "fs.json").read_text())["permissions"]
    assert "mcp__fs__read_file" in fs["allow"] and "mcp__fs__write_file" in fs["deny"]
    assert "guessed" not in result.stderr  # scan knows every key


@needs_time_server
def test_the_real_time_server_is_among_them(scanned):
    _, policies, tools = scanned
    assert tools["clock"] == {"convert_time", "get_current_time"}
    clock = json.loads((policies / "claude" / "clock.json").read_text())["permissions"]
    assert sorted(clock["allow"]) == ["mcp__clock__convert_time", "mcp__clock__get_current_time"]


def test_one_format_goes_straight_into_the_folder_and_a_renamed_server_keeps_its_key(tmp_path):
    # The same key in two configs for two different servers: scan names the second `fs (path)`,
    # but in the user's Claude Code config it is still `fs`.
    first = write_config(tmp_path / "a.json", {"fs": sdk_entry("server-filesystem.json")})
    second = write_config(tmp_path / "b.json", {"fs": sdk_entry("server-memory.json")})
    policies = tmp_path / "policies"
    result = run_cli("scan", first, second, "--db", tmp_path / "c.db", "--policy-dir", policies,
                     "--policy-format", "claude", "--timeout", "30")
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in policies.iterdir() if p.name != "_index.json")
    assert len(files) == 4 and "fs.json" in files and "fs.mcp-risk.json" in files  # no subfolder for one format
    renamed = next(name for name in files if name != "fs.json" and not name.endswith(".mcp-risk.json"))
    rules = json.loads((policies / renamed).read_text())["permissions"]
    assert "mcp__fs__delete_entities" in rules["deny"] + rules["ask"]  # the memory server's tools, under `fs`


def test_a_policy_format_without_a_policy_dir_is_a_usage_error(tmp_path):
    config = write_config(tmp_path / "mcp.json", {"fs": sdk_entry("server-filesystem.json")})
    result = run_cli("scan", config, "--db", tmp_path / "c.db", "--policy-format", "cedar")
    assert result.exit_code == 2 and "--policy-format goes with --policy-dir" in result.stderr
    assert not (tmp_path / "c.db").exists()  # refused before anything ran


def test_probe_names_claude_rules_by_the_key_it_is_given_and_guesses_with_a_warning_otherwise(tmp_path):
    from .conftest import RAW

    command = ["--", sys.executable, str(RAW), "hostile_names"]
    for key, folder in (("my-notes", tmp_path / "given"), (None, tmp_path / "guessed")):
        given = ["--claude-server", key] if key else []
        result = run_cli("probe", "--db", tmp_path / "c.db", "--name", "acme/notes-server", "--policy-dir", folder,
                         "--policy-format", "claude", *given, *command)
        assert result.exit_code == 0, result.output
        [written] = [p for p in folder.iterdir() if p.name.endswith(".json") and ".mcp-risk." not in p.name
                     and p.name != "_index.json"]
        rules = [r for kind in ("allow", "ask", "deny") for r in json.loads(written.read_text())["permissions"][kind]]
        prefix = "mcp__my-notes__" if key else "mcp__notes__"  # the guess drops the owner and "-server"
        assert rules and all(rule.startswith(prefix) for rule in rules), rules
        assert ("guessed" in result.stderr) == (key is None), result.stderr
    result = run_cli("probe", "--claude-server", "notes", *command)
    assert result.exit_code == 2 and "--claude-server goes with --policy-dir" in result.stderr
