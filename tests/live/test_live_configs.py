"""Client configs, registry records and provenance: parsed leniently, bad input named, secrets kept out."""

import json
from pathlib import Path

import pytest

from mcp_risk.crawler import ManifestError
from mcp_risk.crawler.live import known_config_paths, read_config, specs_from_server_json, unique_names
from mcp_risk.crawler.live.result import ProbeResult, redact_args, redact_url

from .conftest import DATA


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_claude_desktop_config(tmp_path):
    # The shape of the Claude Desktop quick-start docs: npx and docker servers with env.
    config = write(tmp_path / "claude_desktop_config.json", json.dumps({"mcpServers": {
        "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]},
        "github": {"command": "docker", "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN",
                                                 "ghcr.io/github/github-mcp-server"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_secret"}},
    }}))
    fs, gh = read_config(config)
    assert (fs.name, fs.command, fs.args, fs.transport) == (
        "filesystem", "npx", ("-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"), "stdio")
    assert gh.env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_secret"}
    assert fs.origin == str(config) and not fs.problem and not fs.from_registry


def test_cursor_and_claude_code_remote_servers(tmp_path, monkeypatch):
    monkeypatch.setenv("TEAM_TOKEN", "t-42")
    monkeypatch.delenv("UNSET_THING", raising=False)
    config = write(tmp_path / ".mcp.json", json.dumps({"mcpServers": {
        "linear": {"type": "sse", "url": "https://mcp.linear.app/sse"},
        "notion": {"type": "http", "url": "https://mcp.notion.com/mcp", "headers": {"Authorization": "Bearer ${TEAM_TOKEN}"}},
        "plain": {"url": "https://example.com/mcp"},
        "local": {"type": "stdio", "command": "./bin/server", "args": ["../shared/data", "--mode=${UNSET_THING:-safe}"]},
    }}))
    linear, notion, plain, local = read_config(config)
    assert (linear.url, linear.transport) == ("https://mcp.linear.app/sse", "sse")
    assert notion.transport == "http" and notion.headers == {"Authorization": "Bearer t-42"}
    assert plain.transport is None  # Streamable HTTP first, then SSE
    # Relative paths mean the project folder: the server itself runs in a temporary one.
    assert local.command == str(tmp_path / "bin" / "server")
    assert local.args == (str(tmp_path.parent / "shared" / "data"), "--mode=safe")


def test_claude_code_user_file_takes_the_current_projects_servers(tmp_path):
    project = tmp_path / "work" / "app"
    project.mkdir(parents=True)
    config = write(tmp_path / ".claude.json", json.dumps({
        "numStartups": 3,
        "mcpServers": {"memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}},
        "projects": {str(project): {"mcpServers": {"db": {"command": "uvx", "args": ["mcp-server-sqlite"]}}},
                     "/elsewhere": {"mcpServers": {"other": {"command": "x"}}}},
    }))
    assert [s.name for s in read_config(config, cwd=project)] == ["memory", "db"]
    assert [s.name for s in read_config(config, cwd=tmp_path)] == ["memory"]


def test_vscode_mcp_json_with_comments_inputs_and_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("PERPLEXITY_KEY", "pk-1")
    config = write(tmp_path / "proj" / ".vscode" / "mcp.json", """{
      // VS Code allows comments and trailing commas
      "inputs": [{"type": "promptString", "id": "api-key", "description": "API key", "password": true}],
      "servers": {
        "perplexity": {
          "type": "stdio",
          "command": "npx",
          "args": ["-y", "server-perplexity-ask", "${workspaceFolder}/notes"],
          "env": {"PERPLEXITY_API_KEY": "${env:PERPLEXITY_KEY}", "OTHER": "${input:api-key}"},
        },
        /* a remote one */
        "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},
      },
    }""")
    perplexity, github = read_config(config)
    assert perplexity.args[-1] == f"{(tmp_path / 'proj').resolve()}/notes"
    assert perplexity.env == {"PERPLEXITY_API_KEY": "pk-1", "OTHER": "${input:api-key}"}
    assert github.url == "https://api.githubcopilot.com/mcp/" and github.transport == "http"


def test_vscode_settings_and_windsurf_shapes(tmp_path):
    settings = write(tmp_path / "settings.json", '{"editor.fontSize": 14, "mcp": {"servers": {"time": {"command": "uvx", "args": ["mcp-server-time"]}}}}')
    windsurf = write(tmp_path / "mcp_config.json", '{"mcpServers": {"remote": {"serverUrl": "https://example.com/mcp"}}}')
    assert [s.command for s in read_config(settings)] == ["uvx"]
    assert [s.url for s in read_config(windsurf)] == ["https://example.com/mcp"]


@pytest.mark.parametrize("text, says", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"editor.fontSize": 14}', 'no "mcpServers" or "servers"'),
    ('{"mcpServers": ["a"]}', '"mcpServers" must be an object'),
])
def test_an_unusable_config_is_one_clear_error(tmp_path, text, says):
    config = write(tmp_path / "mcp.json", text)
    with pytest.raises(ManifestError) as caught:
        read_config(config)
    assert str(caught.value).startswith(str(config)) and says in str(caught.value)


def test_a_missing_config_says_so(tmp_path):
    with pytest.raises(ManifestError, match="no such config file"):
        read_config(tmp_path / "nope.json")


def test_a_bad_entry_is_reported_and_the_others_kept(tmp_path):
    config = write(tmp_path / "mcp.json", json.dumps({"mcpServers": {
        "good": {"command": "node", "args": ["server.js"]},
        "no-command": {"args": ["x"]},
        "both": {"command": "node", "url": "https://example.com/mcp"},
        "bad-args": {"command": "node", "args": "server.js"},
        "bad-env": {"command": "node", "env": {"A": ["list"]}},
        "ftp": {"url": "ftp://example.com"},
        "wrong-type": {"type": "sse", "command": "node"},
        "not-object": "node server.js",
        "off": {"command": "node", "disabled": True},
    }}))
    specs = {s.name: s for s in read_config(config)}
    assert "off" not in specs  # disabled in the client: not run here either
    assert specs["good"].problem is None
    problems = {name: spec.problem for name, spec in specs.items() if name != "good"}
    assert all(p and p.startswith(f"{config}: server {n!r}") for n, p in problems.items()), problems
    assert 'neither "command"' in problems["no-command"]
    assert "both" in problems["both"] and "array of strings" in problems["bad-args"]
    assert "http:// or https://" in problems["ftp"] and "needs a \"url\"" in problems["wrong-type"]


@pytest.mark.parametrize("platform, desktop", [
    ("linux", ".config/Claude/claude_desktop_config.json"),
    ("darwin", "Library/Application Support/Claude/claude_desktop_config.json"),
    ("win32", "AppData/Roaming/Claude/claude_desktop_config.json"),
])
def test_known_config_paths_find_each_clients_files(tmp_path, platform, desktop):
    home, project = tmp_path / "home", tmp_path / "project"
    files = [desktop, ".cursor/mcp.json", ".claude.json", ".codeium/windsurf/mcp_config.json"]
    for relative in files:
        write(home / relative, "{}")
    for relative in (".mcp.json", ".vscode/mcp.json", ".cursor/mcp.json"):
        write(project / relative, "{}")
    found = known_config_paths(home=home, cwd=project, platform=platform, environ={})
    clients = [client for client, _ in found]
    assert {str(p.relative_to(home)) for _, p in found if home in p.parents} == set(files)
    assert {str(p.relative_to(project)) for _, p in found if project in p.parents} == {".mcp.json", ".vscode/mcp.json", ".cursor/mcp.json"}
    assert clients[0] == "claude-desktop" and {"cursor", "claude-code", "vscode", "windsurf"} <= set(clients)


def test_known_config_paths_with_nothing_there(tmp_path):
    assert known_config_paths(home=tmp_path, cwd=tmp_path, platform="linux", environ={}) == []


def test_the_same_server_in_two_configs_is_probed_once_and_a_namesake_kept(tmp_path):
    a = write(tmp_path / "a.json", json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["fs"]}}}))
    b = write(tmp_path / "b.json", json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["fs"]},
                                                             "db": {"command": "uvx"}}}))
    c = write(tmp_path / "c.json", json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["other-fs"]}}}))
    specs = unique_names(read_config(a) + read_config(b) + read_config(c))
    assert [s.name for s in specs] == ["fs", "db", f"fs ({c})"]


# -- registry data ----------------------------------------------------------------------------

def seed():
    return json.loads((DATA / "official_registry_seed.example.json").read_text())


def test_registry_npm_and_pypi_packages_become_pinned_launches(monkeypatch):
    monkeypatch.setenv("AIRTABLE_API_KEY", "patUsersOwnRealKey.0123456789abcdef")
    airtable, _, nuget, pypi = seed()
    [npm_spec] = specs_from_server_json(airtable, "seed[0]")  # oci and mcpb are not run here
    assert (npm_spec.command, npm_spec.args) == ("npx", ("-y", "airtable-mcp-server@1.7.2"))
    assert npm_spec.from_registry and npm_spec.name == "io.github.domdomegg/airtable-mcp-server"
    # The secret it requires gets a plainly fake stand-in (so it starts and lists its tools), never
    # the user's own value of that variable.
    assert npm_spec.env == {"AIRTABLE_API_KEY": "mcp-risk-dummy-airtable_api_key"}
    [pypi_spec] = specs_from_server_json({"server": pypi, "_meta": {}}, "item")  # a registry API item
    assert (pypi_spec.command, pypi_spec.args) == ("uvx", ("time-mcp-pypi==1.0.6",))
    with pytest.raises(ManifestError, match="nuget packages are not run here"):
        specs_from_server_json(nuget, "seed[2]")


def test_registry_remotes_and_refusals():
    remote = {"name": "io.example/remote", "remotes": [
        {"type": "streamable-http", "url": "https://mcp.example.com/mcp",
         "headers": [{"name": "X-Client", "value": "mcp-risk"}]},
        {"type": "sse", "url": "https://{tenant}.example.com/sse"},
    ]}
    [spec] = specs_from_server_json(remote, "doc")
    assert (spec.url, spec.transport, spec.headers) == ("https://mcp.example.com/mcp", "http", {"X-Client": "mcp-risk"})
    needs_key = {"name": "io.example/keyed", "remotes": [{"type": "sse", "url": "https://x.example.com/sse",
                                                          "headers": [{"name": "Authorization", "isRequired": True}]}]}
    with pytest.raises(ManifestError, match="needs header Authorization"):
        specs_from_server_json(needs_key, "doc")
    injected = {"name": "io.example/evil", "packages": [{"registryType": "npm", "identifier": "x; rm -rf ~"}]}
    with pytest.raises(ManifestError, match="not a plain package name"):
        specs_from_server_json(injected, "doc")
    with pytest.raises(ManifestError, match="not a server.json"):
        specs_from_server_json({"name": "x"}, "doc")


# -- provenance without secrets -------------------------------------------------------------------

def test_secrets_stay_out_of_what_is_stored(tmp_path):
    config = write(tmp_path / "mcp.json", json.dumps({"mcpServers": {
        "api": {"command": "node", "args": ["server.js", "--api-key", "abc", "--token=xyz", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
                "env": {"API_TOKEN": "env-secret"}},
        "remote": {"url": "https://user:pw@example.com/mcp?key=q-secret&mode=full", "headers": {"Authorization": "Bearer h-secret"}},
    }}))
    stored = json.dumps([ProbeResult(spec=s, error="x").manifest().meta for s in read_config(config)])
    for secret in ("abc", "xyz", "sk_live", "env-secret", "pw@", "q-secret", "h-secret"):
        assert secret not in stored
    assert "API_TOKEN" in stored and "Authorization" in stored and "server.js" in stored


def test_redaction_keeps_what_is_not_secret():
    assert redact_args(["npx", "-y", "@modelcontextprotocol/server-filesystem", "/home/me/projects"]) == [
        "npx", "-y", "@modelcontextprotocol/server-filesystem", "/home/me/projects"]
    assert redact_args(["x", "--password", "p", "--verbose"]) == ["x", "--password", "***", "--verbose"]
    assert redact_url("https://example.com:8443/mcp") == "https://example.com:8443/mcp"
    assert Path(redact_url("http://127.0.0.1:9/sse?session=1")).name == "sse?session=***"
