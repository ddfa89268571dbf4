"""`mcp-risk scan` and `mcp-risk probe` end to end: real servers, a real catalogue, real policies."""

import json
import sqlite3
import sys

import pytest

from mcp_risk.catalogue.db import open_catalogue
from mcp_risk.catalogue.store import CrawlRun

from .conftest import (DATA, RAW, TIME_SERVER, needs_time_server, network_namespaces_work, raw_entry, run_cli,
                       sdk_entry, uvx_shim, write_config)

SECRET = "sk-test-51HxQpZ2eZvKYlo2C0123456789abcdef"


def db_rows(db, sql, *params):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def sections(output):
    """The per-server blocks of a scan's table output, by server name."""
    blocks = {}
    for block in output.split("\n== ")[1:]:
        name = block.split("  ", 1)[0]
        blocks[name] = block
    return blocks


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """One scan of a config with a good SDK server, two raw ones (one holding a secret) and a broken one."""
    folder = tmp_path_factory.mktemp("scan")
    config = write_config(folder / "claude_desktop_config.json", {
        "files": sdk_entry("server-filesystem.json", "server-memory.json", page_size=5),
        "legacy": raw_entry("versioned", "2025-03-26", env={"API_TOKEN": SECRET}),
        "broken": raw_entry("crash"),
        "poisoned": raw_entry("injection"),
    })
    db, policies = folder / "catalogue.db", folder / "policies"
    result = run_cli("scan", config, "--db", db, "--policy-dir", policies, "--timeout", "20")
    return result, config, db, policies


def test_scan_prints_a_table_per_server(scanned):
    result = scanned[0]
    assert result.exit_code == 0, result.output
    blocks = sections(result.stdout)
    assert list(blocks) == ["files", "legacy", "broken", "poisoned"]
    files = blocks["files"]
    assert "stdio · secure-filesystem-server 0.2.0 · protocol 2026-07-28 · 23 tools" in files
    assert "tool" in files and "category" in files and "risk" in files and "confidence" in files and "evidence" in files
    lines = {line.split()[0]: line.split() for line in files.splitlines()[3:] if line.strip()}
    assert lines["write_file"][1:3] == ["destructive", "critical"]
    assert lines["delete_entities"][1:3] == ["destructive", "critical"]
    assert lines["read_file"][1:3] == ["read", "low"]
    order = list(lines)  # riskiest first
    assert order.index("write_file") < order.index("edit_file") < order.index("read_file")
    assert "protocol 2025-03-26 · 14 tools" in blocks["legacy"]
    assert blocks["broken"].startswith("broken  FAILED: server exited with status 3 during tools/list page 2")


def test_scan_reports_progress_and_a_summary_on_stderr(scanned):
    stderr = scanned[0].stderr
    assert "probing 4 servers" in stderr
    assert "  ok    files: 23 tools in" in stderr and "  FAIL  broken: server exited" in stderr
    assert "4 servers: 3 ok, 1 failed; 40 tools (" in stderr


def test_scan_stores_servers_tools_and_the_run(scanned):
    _, config, db, _ = scanned
    servers = dict(db_rows(db, "SELECT name, tools_known FROM servers"))
    assert servers == {"files": 1, "legacy": 1, "broken": 0, "poisoned": 1}
    counts = dict(db_rows(db, "SELECT s.name, count(*) FROM tools t JOIN servers s ON s.id = t.server_id GROUP BY s.name"))
    assert counts == {"files": 23, "legacy": 14, "poisoned": 3}
    assert db_rows(db, "SELECT count(*) FROM classifications")[0][0] == 40
    [(status, errors, location)] = db_rows(db, "SELECT r.status, r.errors, so.location FROM crawl_runs r "
                                               "JOIN sources so ON so.id = r.source_id WHERE so.name = 'live'")
    assert status == "partial" and "broken: server exited with status 3" in errors and location == str(config)
    record = json.loads(db_rows(db, "SELECT record FROM server_sources ss JOIN servers s ON s.id = ss.server_id "
                                    "WHERE s.name = 'files'")[0][0])
    assert record["protocol_version"] == "2026-07-28" and record["transport"] == "stdio"
    assert record["server_info"] == {"name": "secure-filesystem-server", "version": "0.2.0"}


def test_secrets_from_the_config_are_never_stored_or_printed(scanned):
    result, _, db, _ = scanned
    assert SECRET not in result.output
    for path in db.parent.glob("catalogue.db*"):
        assert SECRET.encode() not in path.read_bytes()
    record = db_rows(db, "SELECT record FROM server_sources ss JOIN servers s ON s.id = ss.server_id WHERE s.name = 'legacy'")
    assert json.loads(record[0][0])["env_names"] == ["API_TOKEN"]


def test_scan_writes_policies(scanned):
    policies = scanned[3]
    assert sorted(p.name for p in policies.iterdir()) == [
        "_index.json", "files.json", "files.mcp-risk.json", "legacy.json", "legacy.mcp-risk.json", "poisoned.json",
        "poisoned.mcp-risk.json"]
    # as export-policies writes it: which file holds which server's policy (the broken one has none)
    index = {entry["server"]: entry for entry in json.loads((policies / "_index.json").read_text())}
    assert set(index) == {"files", "legacy", "poisoned"} and index["files"]["file"] == "files.json"
    assert f"(index: {policies / '_index.json'})" in scanned[0].stderr
    files = json.loads((policies / "files.json").read_text())
    assert json.loads((policies / "files.mcp-risk.json").read_text())["decisions"]["write_file"]["action"] == "hide"
    assert files["default"] == "deny" and "write_file" in files["hide"] and "read_file" in files["tools"]
    poisoned = json.loads((policies / "poisoned.json").read_text())
    assert {"add", "get_fact_of_the_day"} <= set(poisoned["hide"])  # suspicious instructions: hidden


def test_server_text_cannot_drive_the_terminal(scanned):
    output = scanned[0].output
    assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output
    assert "list_notes" in sections(scanned[0].stdout)["poisoned"]


def test_scanning_again_adds_nothing(scanned):
    _, config, db, _ = scanned
    again = run_cli("scan", config, "--db", db, "--format", "json")
    assert again.exit_code == 0
    [(added, changed, seen)] = db_rows(db, "SELECT tools_added, tools_changed, tools_seen FROM crawl_runs "
                                           "ORDER BY id DESC LIMIT 1")
    assert (added, changed, seen) == (0, 0, 40)


def test_scan_json_is_one_line_per_server(tmp_path):
    config = write_config(tmp_path / "mcp.json", {"a": raw_entry("versioned", "2024-11-05"), "b": raw_entry("crash")})
    result = run_cli("scan", config, "--db", tmp_path / "c.db", "--format", "json")
    assert result.exit_code == 0, result.output
    a, b = (json.loads(line) for line in result.stdout.splitlines())
    assert (a["server"], a["ok"], a["protocol_version"], len(a["tools"])) == ("a", True, "2024-11-05", 14)
    assert set(a["tools"][0]) == {"tool", "category", "risk", "confidence", "flags", "evidence"}
    assert (b["ok"], b["tools"]) == (False, []) and "exited with status 3" in b["error"]


def test_fail_on_exits_non_zero_when_a_risky_tool_is_found(tmp_path):
    config = write_config(tmp_path / "mcp.json", {"fs": raw_entry("versioned", "2025-06-18")})
    risky = run_cli("scan", config, "--db", tmp_path / "c.db", "--fail-on", "critical")
    assert risky.exit_code == 3
    assert "fail-on critical:" in risky.stderr and "fs/write_file" in risky.stderr


def test_fail_on_any_risk_stops_at_a_tool_with_suspicious_instructions(tmp_path):
    """The injection server's tools read as low risk; one tells the model to read ~/.ssh (hidden by
    every policy): a CI gate at critical must not pass it."""
    config = write_config(tmp_path / "mcp.json", {"calc": raw_entry("injection")})
    gated = run_cli("scan", config, "--db", tmp_path / "c.db", "--fail-on", "critical")
    assert gated.exit_code == 3, gated.output
    assert "(suspicious instructions)" in gated.stderr


def test_a_scan_where_no_server_could_be_probed_fails(tmp_path):
    config = write_config(tmp_path / "mcp.json", {"a": raw_entry("crash"), "b": {"command": str(tmp_path / "nothing")}})
    result = run_cli("scan", config, "--db", tmp_path / "c.db")
    assert result.exit_code == 1, result.output
    assert "2 failed" in result.output


@needs_time_server
def test_fail_on_passes_when_nothing_reaches_the_threshold_and_fails_on_an_unscanned_server(tmp_path):
    time_entry = {"command": str(TIME_SERVER)}
    clean = write_config(tmp_path / "clean.json", {"time": time_entry})
    assert run_cli("scan", clean, "--db", tmp_path / "c.db", "--fail-on", "high").exit_code == 0
    partial = write_config(tmp_path / "partial.json", {"time": time_entry, "broken": raw_entry("crash")})
    result = run_cli("scan", partial, "--db", tmp_path / "c.db", "--fail-on", "high")
    assert result.exit_code == 4 and "not scanned, risk unknown: broken" in result.stderr


def test_known_configs_reads_the_users_clients(tmp_path, monkeypatch):
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".cursor").mkdir(parents=True)
    project.mkdir()
    write_config(home / ".cursor" / "mcp.json", {"from-cursor": raw_entry("versioned", "2025-06-18")})
    write_config(project / ".mcp.json", {"from-project": raw_entry("versioned", "2025-11-25")})
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    result = run_cli("scan", "--known-configs", "--db", tmp_path / "c.db")
    assert result.exit_code == 0, result.output
    assert list(sections(result.stdout)) == ["from-cursor", "from-project"]
    assert f"reading cursor config {home / '.cursor' / 'mcp.json'}" in result.stderr


def test_known_configs_with_none_found(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = run_cli("scan", "--known-configs", "--db", tmp_path / "c.db")
    assert result.exit_code == 1 and "Error: no MCP client config found" in result.output


@pytest.mark.parametrize("args, code, says", [
    ([], 2, "name CONFIG files, or pass --known-configs"),
    (["missing.json"], 1, "Error: missing.json: no such config file"),
])
def test_scan_usage_errors(tmp_path, args, code, says):
    result = run_cli("scan", *args, "--db", tmp_path / "c.db")
    assert result.exit_code == code and says in result.output


def test_a_config_that_is_not_json_is_one_error_line(tmp_path):
    bad = tmp_path / "mcp.json"
    bad.write_text("{\"mcpServers\": {", encoding="utf-8")
    result = run_cli("scan", bad, "--db", tmp_path / "c.db")
    assert result.exit_code == 1 and result.output.strip().splitlines()[-1].startswith(f"Error: {bad}: not valid JSON")
    assert not (tmp_path / "c.db").exists()  # nothing started, nothing stored


def test_probe_a_command(tmp_path):
    result = run_cli("probe", "--db", tmp_path / "c.db", "--", sys.executable, RAW, "versioned", "2025-06-18")
    assert result.exit_code == 0, result.output
    assert list(sections(result.stdout)) == ["raw_server.py"]
    named = run_cli("probe", "--db", tmp_path / "c.db", "--name", "my-fs", "-e", "PIDFILE=/dev/null", "--",
                    sys.executable, RAW, "versioned", "2025-06-18")
    assert named.exit_code == 0 and list(sections(named.stdout)) == ["my-fs"]
    assert dict(db_rows(tmp_path / "c.db", "SELECT name, tools_known FROM servers")) == {"raw_server.py": 1, "my-fs": 1}


HIDING = ("delete\u202eeliF", "re\u0430d_file", "list\u200bnotes", "get\x07bell")  # as raw_server.HOSTILE_NAMES


@pytest.mark.parametrize("how", ["probe", "scan"])
def test_tools_whose_names_hide_something_are_kept_flagged_hidden_and_shown_escaped(tmp_path, how):
    db, policies = tmp_path / "c.db", tmp_path / "policies"
    if how == "probe":
        result = run_cli("probe", "--db", db, "--name", "names", "--policy-dir", policies, "--",
                         sys.executable, RAW, "hostile_names")
    else:
        config = write_config(tmp_path / "mcp.json", {"names": raw_entry("hostile_names")})
        result = run_cli("scan", config, "--db", db, "--policy-dir", policies)
    assert result.exit_code == 0, result.output
    flags = dict(db_rows(db, "SELECT t.name, c.flags FROM tools t JOIN classifications c ON c.id = t.classification_id"))
    assert set(flags) == {"create_entities", *HIDING}
    for name in HIDING:
        assert "suspicious_instructions" in json.loads(flags[name]), name
    assert "suspicious_instructions" not in (flags["create_entities"] or "")
    evidence = dict(db_rows(db, "SELECT t.name, c.evidence FROM tools t JOIN classifications c ON c.id = t.classification_id"))
    assert "suspicious_instructions: name hides control/invisible/bidi characters" in json.loads(evidence[HIDING[0]])
    assert "suspicious_instructions: name has look-alike letters from another script" in json.loads(evidence[HIDING[1]])
    policy = json.loads((policies / "names.json").read_text())
    assert set(HIDING) <= set(policy["hide"]) and "create_entities" not in policy["hide"]
    assert "\u202e" not in result.output and "\x07" not in result.output and "\u200b" not in result.output
    assert "delete\\u202eeliF" in result.stdout  # shown escaped


def test_probe_of_a_server_that_fails_exits_1_and_records_why(tmp_path):
    result = run_cli("probe", "--db", tmp_path / "c.db", "--name", "crashy", "--", sys.executable, RAW, "crash")
    assert result.exit_code == 1
    assert "crashy  FAILED: server exited with status 3 during tools/list page 2" in result.stdout
    [(status, errors)] = db_rows(tmp_path / "c.db", "SELECT status, errors FROM crawl_runs")
    assert status == "partial" and "crashy: server exited with status 3" in errors


def test_probe_a_url_with_a_header(tmp_path, http_server):
    url, header, value = http_server
    result = run_cli("probe", "--url", url, "-H", f"{header}: {value}", "--db", tmp_path / "c.db")
    assert result.exit_code == 0, result.output
    assert "127.0.0.1  (streamable-http · github-mcp-server 0.6.2 · protocol 2026-07-28 · 26 tools" in result.stdout
    assert value not in "".join(str(r) for r in db_rows(tmp_path / "c.db", "SELECT record FROM server_sources"))


@pytest.mark.parametrize("args, says", [
    ([], "give one of: COMMAND"),
    (["--url", "http://127.0.0.1:9/mcp", "--", "node"], "give one of: COMMAND"),
    (["--url", "http://127.0.0.1:9/mcp", "-H", "no-colon"], "is not NAME:VALUE"),
    (["-e", "NOVALUE", "--", "node"], "is not NAME=VALUE"),
    (["-H", "A: b", "--", "node"], "--header and --transport go with --url"),
    (["--url", "http://127.0.0.1:9/mcp", "-e", "A=b"], "--env goes with a COMMAND"),
    (["node", "-y"], "No such option '-y'"),  # a command's own options come after --
    (["--url", "notaurl"], "'notaurl' is not an http:// or https:// URL"),
    (["-j", "4", "--", "node"], "No such option '-j'"),  # one server: nothing to run at the same time
])
def test_probe_usage_errors(tmp_path, args, says):
    result = run_cli("probe", "--db", tmp_path / "c.db", *args)
    assert result.exit_code == 2 and says in result.output


def server_json(tmp_path):
    path = tmp_path / "server.json"
    path.write_text(json.dumps(json.loads((DATA / "official_registry_seed.example.json").read_text())[3]))
    return path



def test_probe_server_json_needs_allow_exec(tmp_path, shim_bin):
    uvx_shim(shim_bin, tmp_path / "uvx.log")
    result = run_cli("probe", "--server-json", server_json(tmp_path), "--db", tmp_path / "c.db")
    assert result.exit_code == 1
    assert ("Error: io.github.domdomegg/time-mcp-pypi comes from registry data: would run "
            "`uvx time-mcp-pypi==1.0.6`; pass --allow-exec to allow it") in result.output
    assert not (tmp_path / "uvx.log").exists() and not (tmp_path / "c.db").exists()


@needs_time_server
def test_probe_server_json_with_allow_exec(tmp_path, shim_bin):
    uvx_shim(shim_bin, tmp_path / "uvx.log")
    result = run_cli("probe", "--server-json", server_json(tmp_path), "--allow-exec", "--db", tmp_path / "c.db")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "uvx.log").read_text().split() == ["time-mcp-pypi==1.0.6"]
    assert "io.github.domdomegg/time-mcp-pypi" in sections(result.stdout)


@needs_time_server
def test_probe_a_server_crawled_from_a_registry(tmp_path, shim_bin):
    uvx_shim(shim_bin, tmp_path / "uvx.log")
    db_path = tmp_path / "c.db"
    from mcp_risk.crawler.sources.registry import parse_page

    record = json.loads((DATA / "official_registry_seed.example.json").read_text())[3]
    manifests, errors = parse_page({"servers": [{"server": record, "_meta": {}}]}, "page", "test")  # as a crawl reads it
    assert errors == []
    with CrawlRun(open_catalogue(db_path), "registry", kind="registry") as crawl:
        crawl.store(manifests)
    name = record["name"]
    refused = run_cli("probe", "--from-catalogue", name, "--db", db_path)
    assert refused.exit_code == 1 and "pass --allow-exec" in refused.output
    result = run_cli("probe", "--from-catalogue", name, "--allow-exec", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert db_rows(db_path, "SELECT tools_known FROM servers WHERE name = ?", name) == [(1,)]
    unknown = run_cli("probe", "--from-catalogue", "nope", "--allow-exec", "--db", db_path)
    assert unknown.exit_code == 1 and "no server named 'nope'" in unknown.output


@pytest.mark.skipif(not network_namespaces_work(), reason="this system does not allow network namespaces")
def test_probe_no_network(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        port = str(sock.getsockname()[1])
        result = run_cli("probe", "--no-network", "--format", "json", "--db", tmp_path / "c.db", "--",
                         sys.executable, RAW, "netcheck", port)
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert json.loads(line)["ok"]
    record = db_rows(tmp_path / "c.db", "SELECT description FROM tools WHERE name = 'network_verdict'")
    assert record[0][0].startswith("unreachable")


HEAVY = ("mcp", "mcp_types", "pydantic", "pydantic_core", "httpx", "httpx2", "sqlite_utils", "yaml",
         "mcp_risk.classifier", "mcp_risk.catalogue.store", "mcp_risk.policies")
AUDITED_SCAN = """
import sys
events = []
def hook(event, args):
    if event == "import":
        events.append(("import", args[0]))
    elif event == "subprocess.Popen":
        events.append(("spawn", args[0]))
sys.addaudithook(hook)
sys.argv = ["mcp-risk", *sys.argv[1:]]
from mcp_risk.cli import cli
try:
    cli()
finally:
    import json
    print(json.dumps(events), file=sys.stderr)
"""


def test_every_server_is_started_before_anything_heavy_is_imported(tmp_path):
    # The real CLI in a fresh interpreter, watched through audit hooks (PEP 578): the order in which
    # modules are imported and processes are started, as the interpreter itself reports them.
    import subprocess

    config = write_config(tmp_path / "mcp.json", {f"s{i}": raw_entry("versioned", "2025-06-18") for i in range(4)})
    done = subprocess.run([sys.executable, "-c", AUDITED_SCAN, "scan", str(config), "--db", str(tmp_path / "c.db"),
                           "--cache-dir", str(tmp_path / "cache"), "--policy-dir", str(tmp_path / "p")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = [tuple(e) for e in json.loads(done.stderr.strip().splitlines()[-1])]
    spawns = [i for i, (kind, _) in enumerate(events) if kind == "spawn"]
    heavy = [i for i, (kind, name) in enumerate(events)
             if kind == "import" and any(name == h or name.startswith(h + ".") for h in HEAVY)]
    assert len(spawns) == 4 and heavy, events
    assert max(spawns) < min(heavy), f"{events[min(heavy)][1]} was imported before a server started"


def test_what_scan_prepares_while_servers_boot_does_not_fail(tmp_path):
    # probe_servers ignores what `meanwhile` raises (the main path meets it again): a broken
    # preparation would only make every scan slower, silently. So it is called here on its own.
    from mcp_risk.cli.live import _prepare

    _prepare(tmp_path / "c.db")
    assert db_rows(tmp_path / "c.db", "PRAGMA user_version")[0][0] > 0  # the catalogue's schema is there
