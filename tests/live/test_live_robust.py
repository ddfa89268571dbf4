"""Real servers that break the SDK: tools it rejects (siblings kept, each rejected one named), and
servers that wait for a person to log in (reported as such, not as a timeout)."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mcp_risk.crawler.live import Limits, probe_servers, spec_from_entry

from .conftest import _start_http, _stop, capture, DATA, raw_entry


def probe(name, entry, timeout=10):
    [result] = probe_servers([spec_from_entry(name, entry, origin="test")], Limits(timeout=timeout), cache_dir=False)
    return result


def test_tools_the_sdk_rejects_are_named_and_their_siblings_kept():
    result = probe("bad", raw_entry("bad_tools"))
    assert result.ok, result.error
    names = [tool["name"] for tool in capture("server-memory.json")["tools"]]
    kept = [names[i] for i in range(9) if i not in (1, 3, 6)]
    assert [tool["name"] for tool in result.tools] == kept  # both pages, in order
    dropped = [w for w in result.warnings if w.startswith("dropped a tool")]
    assert len(dropped) == 3, result.warnings
    assert "tools[1] 'create_relations'" in dropped[0] and "inputSchema" in dropped[0]
    assert "tools[3] 'delete_entities'" in dropped[1] and "inputSchema" in dropped[1]
    assert "tools[6] 'read_graph'" in dropped[2] and "readOnlyHint" in dropped[2]
    by_name = {tool["name"]: tool for tool in result.tools}
    assert by_name["create_entities"]["inputSchema"]["required"] == ["entities"]
    assert result.manifest().meta["warnings"] == result.warnings  # recorded with the server


def test_a_server_that_breaks_every_tool_gets_a_few_named_and_the_rest_counted():
    result = probe("broken", raw_entry("empty_tools", "2000"))
    assert result.ok and result.tools == [], result.error
    assert len(result.warnings) == 51, len(result.warnings)
    assert result.warnings[0].startswith("dropped a tool: tools[0] (no name)")
    assert result.warnings[-1] == "... and 1,950 more warnings"
    assert result.manifest().meta["warnings"][-1] == "... and 1,950 more warnings"


def test_broken_tools_count_against_the_tool_limit_across_pages():
    [result] = probe_servers([spec_from_entry("broken", raw_entry("empty_tools", "5000", "1000"), origin="test")],
                             Limits(timeout=10, max_tools=2500), cache_dir=False)
    assert result.error == "listed more than 2,500 tools; stopped", result.error


def test_a_page_of_millions_of_empty_tools_is_refused_before_it_is_validated(tmp_path):
    # 1,000,000 `{}` is 4 MB of JSON: validated by the SDK it took 0.9 GB of our memory and seconds of
    # CPU; refused on its count, a few hundred MB at most (measured in a fresh process).
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(f"""
        import json, resource, sys
        sys.path.insert(0, {str(Path(__file__).parents[2])!r})
        from mcp_risk.crawler.live import Limits, probe_servers, spec_from_entry
        from tests.live.conftest import raw_entry
        [result] = probe_servers([spec_from_entry("flood", raw_entry("empty_tools", "1000000"), origin="test")],
                                 Limits(timeout=20), cache_dir=False)
        print(json.dumps({{"error": result.error, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}}))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["error"] == "listed more than 50,000 tools; stopped"
    assert report["peak_mb"] < 400, report


def test_a_device_code_prompt_is_a_login_not_a_timeout():
    started = time.perf_counter()
    result = probe("azure", raw_entry("device_login"), timeout=3)
    assert not result.ok
    assert result.error.startswith("needs an interactive login"), result.error
    assert "https://microsoft.com/devicelogin" in result.error
    assert time.perf_counter() - started < 8


def test_an_oauth_url_for_a_browser_is_a_login():
    result = probe("gdrive", raw_entry("browser_login"))
    assert not result.ok
    assert result.error.startswith("needs an interactive login"), result.error
    assert "accounts.google.com/o/oauth2" in result.error


def test_a_silent_server_is_still_a_timeout():
    result = probe("silent", raw_entry("silent"), timeout=2)
    assert result.error.startswith("no answer within 2 s"), result.error


@pytest.fixture(scope="module")
def oauth_server():
    process, port = _start_http("--transport", "http", "--tools", str(DATA / "server-github.json"), "--require-oauth")
    yield f"http://127.0.0.1:{port}/mcp"
    _stop(process)


def test_a_remote_asking_for_oauth_is_a_login(oauth_server):
    for entry in ({"url": oauth_server}, {"url": oauth_server, "type": "http"}, {"url": oauth_server, "type": "sse"}):
        result = probe("remote", entry)
        assert not result.ok
        assert result.error.startswith("needs an interactive login (OAuth"), (entry, result.error)
        assert "resource_metadata=" in result.error and "/.well-known/oauth-protected-resource" in result.error


def test_a_long_stderr_line_is_cut_at_a_word():
    words = "could not open the registry database at /var/lib/tools because the disk was full " * 6
    result = probe("crash", raw_entry("crash", words.strip()))
    told = result.error[result.error.index("(stderr: ") + len("(stderr: "):-1]
    assert told.endswith("…") and len(told) <= 200, result.error
    line = "fatal: " + words
    assert line.startswith(told[:-1] + " ")  # whole words, not `datab…`


def test_a_node_crash_is_told_by_its_error_line_not_its_version_line():
    result = probe("crash", raw_entry("node_crash"))
    assert "exited with status 1" in result.error, result.error
    assert "(stderr: RangeError: WebAssembly.instantiate(): Out of memory" in result.error, result.error
