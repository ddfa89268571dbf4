"""Names and descriptions that look like SQL, shell, paths, Markdown, HTML or terminal control reach
the catalogue, the command line, the policies, their file names and Datasette unchanged and inert.

One catalogue is crawled from hostile data (a snapshot, which stores names as given, and a tools/list
file, which checks them); every test reads it, and the last one checks that nothing ran: canary files
named in the payloads were never created, and nothing was written outside the test's folder.
"""

import csv
import io
import json
import re
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner

from mcp_risk.cli import cli
from mcp_risk.policies.formats import CHECK, FORMATS, SIDECAR, pins

from conftest import chromium_dom, serving

from .hostile import rows, INJECTIONS

MARK = "zebracorn"  # a word in every hostile description: `search zebracorn` finds them all


def cli_run(*args, input=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"mcp-risk {args[0]} raised {type(result.exception).__name__}: {result.exception}") \
            from result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


class Hostile:
    """The payloads, with canary paths that exist only if something ran one of them."""

    def __init__(self, root):
        self.root = root
        self.canary = root / "canary"
        self.canary.mkdir()
        self.canaries = [self.canary / n for n in ("shell-dollar", "shell-backtick", "shell-semicolon", "shell-pipe",
                                                    "sql", "jinja", "python-format", "html")]
        executable = [
            f"$(touch {self.canaries[0]})",
            f"`touch {self.canaries[1]}`",
            f"x; touch {self.canaries[2]}; #",
            f"| touch {self.canaries[3]}",
            f"'; ATTACH DATABASE '{self.canaries[4]}' AS pwn; CREATE TABLE pwn.t(x); --",
            f"{{{{ cycler.__init__.__globals__.os.system('touch {self.canaries[5]}') }}}}",
            f"{{0.__init__.__globals__[os].system('touch {self.canaries[6]}')}}",
            f"<img src=x onerror=\"fetch('file://{self.canaries[7]}')\">",
        ]
        browser = ["<script>document.title='PWNED'</script>", "<img src=x onerror=\"document.title='PWNED'\">",
                   "<svg onload=\"document.title='PWNED'\"></svg>", "<a href=\"javascript:document.title='PWNED'\">x</a>"]
        self.payloads = INJECTIONS + executable + browser + ["L" * 10_000, "--help", "-rf", "名前/サーバー"]
        # "plain-server" lists every payload as a tool; each payload is also a server, listing
        # get_record, delete_record and a tool named (and titled) like itself.
        self.servers = ["plain-server", *self.payloads]
        self.tools = self.payloads


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("injection")
    payloads = Hostile(root)
    snapshot = root / "hostile.jsonl"
    lines = []
    for server in payloads.servers:
        for tool in ([*payloads.tools] if server == "plain-server" else ["get_record", "delete_record"]):
            lines.append({"server": server, "tool": tool, "description": f"{MARK} {tool} {server}"[:20_000]})
        if server != "plain-server":
            lines.append({"server": server, "tool": server, "description": f"{MARK} {server}", "title": server})
    snapshot.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    db = root / "catalogue.db"
    code, out, err = cli_run("crawl", "snapshot", snapshot, "--db", db)
    assert code == 0, err
    payloads.db = db
    payloads.expected = {(line["server"], line["tool"], line["description"]) for line in lines}
    payloads.schema = rows(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    return payloads


def test_stored_exactly(hostile):
    stored = rows(hostile.db, "SELECT s.name, t.name, t.description FROM tools t JOIN servers s ON s.id = t.server_id")
    assert set(stored) == hostile.expected
    assert {name for (name,) in rows(hostile.db, "SELECT name FROM servers")} == set(hostile.servers)
    titles = rows(hostile.db, "SELECT t.title FROM tools t JOIN servers s ON s.id = t.server_id WHERE t.name = s.name")
    assert {t for (t,) in titles} == set(hostile.servers) - {"plain-server"}


def test_a_tools_list_file_keeps_every_name_exactly_and_flags_the_hidden_ones(hostile, tmp_path):
    tools = [{"name": p, "description": f"{MARK} tool"} for p in hostile.payloads]
    path = tmp_path / "hostile-tools.json"
    path.write_text(json.dumps({"result": {"tools": tools}}))
    db = tmp_path / "file.db"
    code, out, err = cli_run("crawl", "file", path, "--server", "../../evil/server", "--db", db, "--quiet")
    assert code == 0, err  # nothing went wrong: every name is kept, as listed
    stored = dict(rows(db, "SELECT t.name, c.flags FROM tools t JOIN classifications c ON c.id = t.classification_id"))
    assert set(stored) == set(hostile.payloads)
    assert rows(db, "SELECT name FROM servers") == [("../../evil/server",)]
    assert rows(db, "SELECT errors FROM crawl_runs") == [(None,)]
    hiding = {p for p in hostile.payloads if re.search(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e"
                                                       r"\u2060-\u206f]|pаypal", p)}
    assert hiding and {p for p in hostile.payloads if "suspicious_instructions" in json.loads(stored[p] or "[]")} == hiding
    assert "\x1b" not in err and "\u202e" not in err
    for fmt in FORMATS:  # hidden in every policy, whatever the profile
        for profile in ("balanced", "permissive"):
            folder = tmp_path / f"{fmt}-{profile}"
            code, out, err = cli_run("export-policies", folder, "--format", fmt, "--profile", profile, "--db", db)
            assert code == 0, err
            (entry,) = json.loads((folder / "_index.json").read_text())
            written = folder / entry["file"]
            decisions = pins(((folder / (entry["file"].rsplit(".", 1)[0] + SIDECAR)) if fmt in ("claude", "policylayer")
                              else written).read_text(encoding="utf-8"))
            actions = {tool: d["action"] for tool, d in decisions["decisions"].items()}
            assert {t for t, a in actions.items() if a == "hide"} >= hiding, (fmt, profile)
            assert all(actions[t] == "hide" for t in hiding)


def test_search_takes_any_text_as_words(hostile):
    # A command line cannot carry a NUL (see the next test for the library).
    for text in [p for p in hostile.payloads if "\x00" not in p] + ['"', "'", "*", "NEAR(", "a OR b", "-x", "^", ":",
                                                                  "{name}: x", "name:", "tools_fts"]:
        code, out, err = cli_run("search", "--format", "json", "--db", hostile.db, "--", text)
        assert code == 0, (text, err)
        for line in out.splitlines():
            json.loads(line)
        code, out, err = cli_run("search", "--category", "destructive", "--server", "plain-server", "--db", hostile.db,
                                 "--", text)
        assert code == 0, (text, err)
    assert rows(hostile.db, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == hostile.schema


def test_search_text_with_a_nul(hostile):
    from mcp_risk.catalogue import queries
    from mcp_risk.catalogue.db import open_catalogue

    db = open_catalogue(hostile.db, create=False)
    try:
        assert isinstance(queries.search(db, "a\x00b"), list)
    finally:
        db.conn.close()


def test_search_and_show_print_data_as_data(hostile):
    code, out, err = cli_run("search", MARK, "--format", "json", "--limit", "100000", "--db", hostile.db)
    assert code == 0, err
    found = {(r["server"], r["tool"], r["description"]) for r in map(json.loads, out.splitlines())}
    assert found == hostile.expected
    code, out, err = cli_run("search", MARK, "--format", "csv", "--raw", "--limit", "100000", "--db", hostile.db)
    assert code == 0, err
    parsed = list(csv.DictReader(io.StringIO(out, newline="")))
    assert {(r["server"], r["tool"], r["description"]) for r in parsed} == hostile.expected
    # Without --raw, the CSV a spreadsheet opens: no cell starts a formula, nothing hides or reorders
    code, out, err = cli_run("search", MARK, "--format", "csv", "--limit", "100000", "--db", hostile.db)
    assert code == 0, err
    parsed = list(csv.reader(io.StringIO(out, newline="")))
    assert len(parsed) == len(hostile.expected) + 1
    cells = [cell for row in parsed for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://127.0.0.1:9\",\"x\")" in cells and "'- a\\n- b" in cells
    assert_terminal_safe(out.replace("\r\n", "").replace("\n", ""))  # (the CSV's own line ends aside)
    assert "p\\u0430ypal" in cells  # a look-alike name, escaped
    code, out, err = cli_run("search", MARK, "--limit", "100000", "--db", hostile.db)
    assert code == 0, err
    for server in [s for s in hostile.servers if "\x00" not in s][:80]:
        code, out, err = cli_run("show", "--format", "json", "--db", hostile.db, "--", server)
        assert code == 0, (server, err)
        record = json.loads(out)
        assert record["name"] == server
        assert {t["tool"] for t in record["tools"]} == {t for s, t, _ in hostile.expected if s == server}
        code, table, err = cli_run("show", "--db", hostile.db, "--", server)
        assert code == 0, err
        assert_terminal_safe(table)
    code, table, err = cli_run("search", MARK, "--limit", "100000", "--db", hostile.db)
    assert_terminal_safe(table)


def assert_terminal_safe(text):
    """What a table prints: no escape sequence, no bidi override, no NUL reaches the terminal."""
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", text), \
        repr(text[:300])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_exported_policy_stays_in_its_folder(hostile, tmp_path, fmt):
    out = tmp_path / "policies"
    code, stdout, err = cli_run("export-policies", out, "--format", fmt, "--db", hostile.db)
    assert code == 0, err
    index = json.loads((out / "_index.json").read_text())
    assert {entry["server"] for entry in index} == set(hostile.servers)
    names = [entry["file"] for entry in index]
    assert len(set(names)) == len(names)  # never two servers in one file
    written = {p.name for p in out.iterdir()}
    sidecars = {n.rsplit(".", 1)[0] + SIDECAR for n in names} if fmt in ("claude", "policylayer") else set()
    assert written == set(names) | sidecars | {"_index.json"}
    assert all(p.is_file() and p.resolve().parent == out.resolve() for p in out.iterdir())
    assert list(tmp_path.iterdir()) == [out]
    for entry in index:
        text = (out / entry["file"]).read_text(encoding="utf-8")
        CHECK[fmt](text)
        pinned = pins((out / (entry["file"].rsplit(".", 1)[0] + SIDECAR)).read_text() if fmt in ("claude", "policylayer") else text)
        assert pinned["server"] == entry["server"]
        assert set(pinned["decisions"]) == {t for s, t, _ in hostile.expected if s == entry["server"]}
    for payload in hostile.payloads:  # ../../etc/passwd.json, /etc/passwd.json and friends: never written
        for suffix in (".json", ".yaml", SIDECAR):
            try:
                target = (out / (payload + suffix)).resolve()
            except (ValueError, OSError):
                continue
            assert target.parent == out.resolve() or not target.exists(), target


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_policy_of_each_hostile_server(hostile, fmt):
    for server in [s for s in hostile.servers if "\x00" not in s][::3]:
        code, out, err = cli_run("policy", "--format", fmt, "--db", hostile.db, "--", server)
        assert code == 0, (server, err)
        CHECK[fmt](out)
        if fmt not in ("claude", "policylayer"):  # these keep their pins in a sidecar, written with -o
            assert pins(out)["server"] == server


# -- Datasette ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(hostile):
    with serving(hostile.db) as server:
        yield server


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read().decode("utf-8")


RAW_MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
              "<script>document.title='PWNED'</script>", "<b>html in markdown</b>", "</textarea><script>"]


def test_datasette_serves_the_names_escaped(hostile, served):
    base, name = served
    pages = [f"/{name}/tool_catalogue?_size=max", f"/{name}/servers?_size=max", f"/{name}/tools?_size=max",
             f"/{name}/tool_history?_size=max", f"/{name}/crawl_runs",
             f"/{name}/tools?_search={urllib.parse.quote(MARK + ' script')}",
             f"/{name}/tools_of_a_server?server={urllib.parse.quote('<script>alert(1)</script>')}",
             f"/{name}/tools_of_a_server?server={urllib.parse.quote(INJECTIONS[0])}",
             f"/{name}/critical_tools_per_server"]
    for page in pages:
        html = fetch(base + page)
        for markup in RAW_MARKUP:
            assert markup not in html, (page, markup)
        assert not re.search(r"""href=["']?\s*javascript:""", html, re.IGNORECASE), page
    html = fetch(base + pages[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[click me](javascript:alert(1))" in html  # Markdown stays text: no link is made of it
    # The JSON API gives every byte back.
    data = json.loads(fetch(f"{base}/{name}/tool_catalogue.json?_shape=array&_size=max&server="
                            f"{urllib.parse.quote('plain-server')}"))
    assert {row["tool"] for row in data} == set(hostile.tools)
    rows_by_tool = {row["tool"]: row["description"] for row in data}
    assert rows_by_tool["'; DROP TABLE tools; --"] == f"{MARK} '; DROP TABLE tools; -- plain-server"


def test_no_script_runs_in_a_browser(hostile, served, tmp_path):
    base, name = served
    for page in (f"/{name}/tool_catalogue?server=plain-server&_size=max", f"/{name}/servers?_size=max"):
        dom = chromium_dom(base + page, tmp_path, "--virtual-time-budget=3000")
        assert "get_record" in dom or "plain-server" in dom  # the page did render
        assert "PWNED" in dom  # the payloads are on the page, as text...
        assert "<title>PWNED" not in dom and not re.search(r"<(script|img|svg|a)\b[^>]*PWNED", dom)  # ...never ran


def test_nothing_ran_and_nothing_was_written_elsewhere(hostile):
    assert list(hostile.canary.iterdir()) == []
    for canary in hostile.canaries:
        assert not canary.exists()
    assert rows(hostile.db, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == hostile.schema
    assert rows(hostile.db, "PRAGMA database_list") == [(0, "main", str(hostile.db))]  # no ATTACH stuck
    allowed = {"canary", "hostile.jsonl", "catalogue.db", "catalogue.db-wal", "catalogue.db-shm", "catalogue.lock",
               "catalogue.db.lock", "catalogue.http-cache.db"}
    assert {p.name for p in hostile.root.iterdir()} <= allowed, sorted(p.name for p in hostile.root.iterdir())
