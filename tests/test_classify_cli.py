"""The public `mcp-risk classify` contract: JSON lines in, one JSON line out per tool, in input order."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import run

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference"
KEYS_WITH_ID = ["id", "server", "name", "category", "risk", "flags", "confidence", "evidence"]


def lines(output):
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_lines_in_order_with_ids_and_servers(tmp_path):
    source = tmp_path / "tools.jsonl"
    tools = [
        {"id": "t1", "server": "github", "name": "delete_repository", "description": "Delete a repository"},
        {"name": "read_file", "description": "Read a file", "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}},
        {"id": 3, "server": "stripe", "name": "create_refund",
         "inputSchema": {"type": "object", "properties": {"charge": {"type": "string"}, "amount": {"type": "integer"}, "currency": {"type": "string"}}}},
        {"id": "t4", "name": "execute_sql", "inputSchema": {"properties": {"sql": {"type": "string"}}}},
    ]
    source.write_text("\n".join(json.dumps(t) for t in tools) + "\n")
    result = run("classify", "--input", source)
    assert result.exit_code == 0, result.output
    out = lines(result.output)
    assert [o["name"] for o in out] == [t["name"] for t in tools]
    assert list(out[0]) == KEYS_WITH_ID
    assert "id" not in out[1] and out[1]["server"] is None
    assert out[2]["id"] == 3
    assert [o["category"] for o in out] == ["destructive", "read", "financial", "execute"]
    assert [o["risk"] for o in out] == ["critical", "low", "critical", "high"]
    assert "filesystem" in out[1]["flags"]
    for o in out:
        assert 0 <= o["confidence"] <= 1
        assert o["evidence"] and all(isinstance(e, str) for e in o["evidence"])


def test_a_real_tools_list_result_from_stdin():
    capture = (REFERENCE / "tools_list_snapshots" / "server-filesystem.json").read_text()
    result = run("classify", "--input", "-", input=capture)
    assert result.exit_code == 0, result.output
    by_name = {o["name"]: o for o in lines(result.output)}
    assert len(by_name) == len(json.loads(capture)["tools"])
    assert by_name["read_text_file"]["category"] == "read"
    assert by_name["write_file"]["category"] == "destructive"  # the overwrite rule
    assert any("overwrite" in e for e in by_name["write_file"]["evidence"])


def test_a_json_rpc_response_carrying_a_tools_list(tmp_path):
    source = tmp_path / "response.json"
    source.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "list_issues"}]}}, indent=2))
    result = run("classify", "-i", source)
    assert result.exit_code == 0
    assert lines(result.output)[0]["category"] == "read"


def test_the_installed_console_script_speaks_the_same_contract(tmp_path):
    script = Path(sys.executable).with_name("mcp-risk")
    completed = subprocess.run([script, "classify", "--input", "-"], input='{"name": "purge_queue"}\n',
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert lines(completed.stdout) == [lines(completed.stdout)[0]]
    assert lines(completed.stdout)[0]["category"] == "destructive"
