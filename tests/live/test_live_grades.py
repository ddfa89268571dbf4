"""`mcp-risk scan` of a config whose servers make a toxic flow only together: real tool lists (the
fetch and filesystem reference captures, and the Resend mail server of the bundled snapshot), each
served by the real SDK server over stdio; grades after the tools, the cross-server flow, `--fail-on`
with a grade, and policies that break the flow."""

import gzip
import json
from pathlib import Path

import pytest

from .conftest import run_cli, sdk_entry, write_config

from mcp_risk.crawler.sources.snapshot import default_path

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "tools_list_snapshots"
MAIL = "@resend/mcp-send-email"


def mail_capture(folder):
    """The mail server's real tools from the snapshot, in the shape of a tools/list capture."""
    with gzip.open(default_path(), "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if MAIL in line]
    tools = [{"name": r["tool"], "description": r.get("description"), "inputSchema": r.get("input_schema")
              or {"type": "object"}} for r in rows if r["server"] == MAIL]
    path = folder / "resend.json"
    path.write_text(json.dumps({"server_info": {"name": "resend", "version": "1"}, "tools": tools}))
    return path


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flow")
    return folder, write_config(folder / "mcp.json", {
        "fetch": sdk_entry(str(CAPTURES / "mcp-server-fetch.json")),
        "files": sdk_entry(str(CAPTURES / "server-filesystem.json")),
        "mail": sdk_entry(str(mail_capture(folder))),
    })


@pytest.fixture(scope="module")
def scanned(config):
    folder, path = config
    policies = folder / "policies"
    result = run_cli("scan", path, "--db", folder / "c.db", "--policy-dir", policies, "--timeout", "30")
    assert result.exit_code == 0, result.output
    return result, policies


def test_scan_prints_grades_after_the_tools_and_the_cross_server_flow(scanned):
    out = scanned[0].stdout
    grades = out.index("-- grades")
    assert out.index("== mail") < grades and out.index("== files") < grades
    lines = out[grades:].splitlines()
    assert "   A  fetch: only reads: fetch" in lines
    assert any(line.startswith("   D  files: can lose data for good: write_file") for line in lines)
    assert any(line.startswith("   C  mail: sends data out") for line in lines)
    flows = out.index("-- toxic flows across servers (1)")
    assert "untrusted content from fetch/fetch, private data from files/" in out[flows:]
    assert "sent out by mail/send-email" in out[flows:]


def test_scan_json_names_the_flow_on_the_server_that_sends_it_out(config, tmp_path):
    folder, path = config
    result = run_cli("scan", path, "--db", tmp_path / "c.db", "--format", "json", "--timeout", "30")
    lines = {r["server"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(lines) == {"fetch", "files", "mail"}
    assert {n: r["grade"] for n, r in lines.items()} == {"fetch": "A", "files": "D", "mail": "C"}
    assert lines["fetch"]["config_flows"] == [] and lines["files"]["config_flows"] == []
    (flow,) = lines["mail"]["config_flows"]
    assert flow["untrusted"] == {"server": "fetch", "tool": "fetch"} and flow["out"] == {"server": "mail", "tool": "send-email"}
    assert flow["private"]["server"] == "files"


def test_scan_policies_break_the_cross_server_flow_at_its_channel_out(scanned):
    mail = json.loads((scanned[1] / "mail.json").read_text())
    assert "send-email" not in mail["tools"] and "send-email" not in mail["hide"]  # asked: denied by this format
    from mcp_risk.policies.export import sidecar_name

    pins = json.loads((scanned[1] / sidecar_name("mail.json")).read_text())  # reasons live in the sidecar
    decision = pins["decisions"]["send-email"]
    assert decision["action"] == "ask"
    assert "breaks a toxic flow (untrusted content from fetch/fetch" in decision["reason"]
    fetch = json.loads((scanned[1] / "fetch.json").read_text())
    assert "fetch" in fetch["tools"]  # the untrusted leg stays open: one held leg breaks the flow


def test_fail_on_a_grade(config, tmp_path):
    _, path = config
    d = run_cli("scan", path, "--db", tmp_path / "c.db", "--fail-on", "D", "--timeout", "30")
    assert d.exit_code == 3 and "fail-on D: 1 at grade D or worse: files (D)" in d.stderr
    f = run_cli("scan", path, "--db", tmp_path / "c.db", "--fail-on", "F", "--timeout", "30")
    assert f.exit_code == 3 and "1 toxic flow(s) across servers" in f.stderr


def test_each_server_alone_has_no_flow(config, tmp_path):
    folder, _ = config
    for name, capture in (("fetch", CAPTURES / "mcp-server-fetch.json"), ("files", CAPTURES / "server-filesystem.json"),
                          ("mail", folder / "resend.json")):
        alone = write_config(tmp_path / f"{name}.json", {name: sdk_entry(str(capture))})
        result = run_cli("scan", alone, "--db", tmp_path / "c.db", "--fail-on", "F", "--timeout", "30")
        assert result.exit_code == 0, result.stderr
        assert "toxic flows" not in result.stdout
