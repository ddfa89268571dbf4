"""The parsers through the real command line: `mcp-risk classify -i -`, `crawl file`, `crawl snapshot`,
`policy --overrides`. Whatever the input, the exit status is one the help documents, a refusal is one
line starting `Error:` with no traceback, and what is accepted comes back from the catalogue exactly.
"""

import json

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mcp_risk.cli import cli
from mcp_risk.policies.decisions import decide
from mcp_risk.policies.formats import CHECK, pins, render
from mcp_risk.crawler.manifest import ManifestError
from mcp_risk.crawler.sources import files
from mcp_risk.crawler.sources.tools_file import read_tools

from .hostile import INJECTIONS, documents_of, json_values, names, rows, tool_objects
from .test_parsers_property import OVERRIDES, REGISTRY_PAGE, TOOLHIVE, TOOLS_LIST

# Each example runs the whole command (and builds a catalogue): a quarter of the profile's count.
# A policy of the catalogue's "plain" server, as `mcp-risk policy` writes it, to be edited by anyone.
POLICY_FOR_PLAIN = render("policylayer", "plain", "balanced", decide("plain", [
    {"tool": t, "category": c, "risk": r, "confidence": 0.9, "hash": f"h-{t}", "flags": []}
    for t, c, r in (("run_sql", "execute", "high"), ("delete_file", "destructive", "critical"), ("gone", "read", "low"))]))[0]
FEW = settings(max_examples=max(10, settings.default.max_examples // 4))


def cli_run(*args, input=None):
    """The real CLI in-process: (exit code, stdout, stderr). Any exception but SystemExit fails."""
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"mcp-risk {' '.join(map(str, args[:2]))} raised "
                             f"{type(result.exception).__name__}: {result.exception}") from result.exception
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def one_error_line(stderr):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


tool_texts = st.one_of(
    st.lists(tool_objects, max_size=4).map(lambda tools: json.dumps({"result": {"tools": tools}})),
    st.lists(tool_objects, max_size=4).map(lambda tools: "\n".join(json.dumps(t) for t in tools)),
    st.lists(st.fixed_dictionaries({"name": names, "description": names, "server": names, "id": names}),
             min_size=1, max_size=4).map(lambda tools: "\n".join(json.dumps(t) for t in tools)),
    documents_of(TOOLS_LIST).map(json.dumps),
    st.text(max_size=100),
)


@FEW
@given(tool_texts)
@example(text='{"name": "get", "id": "\u0085", "server": "a\u2028b"}')  # raw, they broke the line for splitlines()
@example(text='{"name": "get", "description": "\\ud800"}')  # half a surrogate pair: a traceback once
def test_classify(text):
    code, out, err = cli_run("classify", "-i", "-", input=text.encode("utf-8", "surrogatepass"))
    try:
        expected = read_tools(text, "<stdin>") or None  # no tool at all: an empty input, an error
    except ManifestError:
        expected = None
    if code == 1:
        one_error_line(err)
        assert out == "" and expected is None  # all or nothing: no line before the error
        return
    assert code == 0 and expected is not None, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert [(p["name"], p["server"], p.get("id")) for p in printed] == \
        [(t["name"], t["server"], t["id"]) for t in expected]  # exactly, in input order


@FEW
@given(st.one_of(documents_of(TOOLHIVE).map(json.dumps), documents_of(REGISTRY_PAGE).map(json.dumps),
                 documents_of(TOOLS_LIST).map(json.dumps), tool_texts))
def test_crawl_file_stores_exactly_what_it_accepts(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("crawl")
    path = folder / "input.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    db = folder / "c.db"
    code, out, err = cli_run("crawl", "file", path, "--db", db, "--quiet")
    try:
        manifests, errors = files.read_file(path)
    except ManifestError:
        manifests, errors = [], ["whole file"]
    assert code in (0, 3), err  # 3: something was logged and skipped, the rest stored
    assert (code == 3) == bool(errors)
    manifests = list({m.name: m for m in manifests}.values())  # one server named twice: the last stands
    expected = {(m.name, t["name"], t["description"], t["title"]) for m in manifests for t in m.tools or []}
    stored = set(rows(db, "SELECT s.name, t.name, t.description, t.title FROM tools t JOIN servers s ON s.id = t.server_id"))
    assert stored == expected
    assert {m.name for m in manifests} == {name for (name,) in rows(db, "SELECT name FROM servers")}


snapshot_rows = st.lists(st.fixed_dictionaries({"server": names, "tool": names},
                                               optional={"description": st.one_of(names, json_values),
                                                         "input_schema": json_values}), min_size=1, max_size=5)


@FEW
@given(snapshot_rows)
def test_crawl_snapshot_stores_every_byte(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("snapshot")
    path = folder / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in lines), encoding="utf-8")
    db = folder / "c.db"
    code, out, err = cli_run("crawl", "snapshot", path, "--db", db)
    if code == 1:
        assert "rows.jsonl:" in one_error_line(err)
        assert not db.exists()  # checked whole before the catalogue is touched
        return
    assert code == 0, err
    last = {}
    # As the file says it: JSON joins "\ud800\udc00" into the one character it spells.
    for row in (json.loads(json.dumps(row)) for row in lines):  # a tool listed twice: the last row stands
        last[(row["server"], row["tool"])] = row.get("description")
    stored = rows(db, "SELECT s.name, t.name, t.description FROM tools t JOIN servers s ON s.id = t.server_id")
    assert {(s, t): d for s, t, d in stored} == last


@pytest.fixture(scope="module")
def hostile_catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    lines = [{"server": server, "tool": tool, "description": f"Delete {tool} for good"}
             for server in ("plain", INJECTIONS[0], INJECTIONS[16]) for tool in ("run_sql", "delete_file", "*")]
    path = folder / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in lines))
    db = folder / "c.db"
    assert cli_run("crawl", "snapshot", path, "--db", db)[0] == 0
    return db


@FEW
@given(st.one_of(documents_of(OVERRIDES).map(json.dumps),
                 documents_of(OVERRIDES).map(lambda d: __import__("yaml").safe_dump(d, allow_unicode=True)),
                 st.text(max_size=100)),
       st.sampled_from([".yaml", ".json"]), st.sampled_from(["policylayer", "intercept", "claude", "cedar"]),
       st.sampled_from(["plain", INJECTIONS[0], INJECTIONS[16]]))
@example(text='{"\\r": 1}', suffix=".json", fmt="policylayer", server="plain")  # the key broke the one-line error
def test_policy_with_any_overrides_file(hostile_catalogue, tmp_path_factory, text, suffix, fmt, server):
    path = tmp_path_factory.mktemp("overrides") / f"overrides{suffix}"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    code, out, err = cli_run("policy", server, "--overrides", path, "--format", fmt, "--db", hostile_catalogue)
    if code == 1:
        assert str(path) in one_error_line(err)
        return
    assert code == 0, err
    CHECK[fmt](out)
    if fmt not in ("claude", "policylayer"):  # these keep their pins in a sidecar, written with -o
        assert pins(out)["server"] == server


@FEW
@given(st.one_of(documents_of(json.loads(POLICY_FOR_PLAIN)).map(json.dumps), st.text(max_size=100)))
def test_diff_against_any_policy_file(hostile_catalogue, tmp_path_factory, text):
    path = tmp_path_factory.mktemp("policy") / "policy.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    code, out, err = cli_run("diff", "--policy", path, "--format", "json", "--db", hostile_catalogue)
    if code == 1:
        one_error_line(err)
        return
    assert code == 0, err
    for line in out.splitlines():
        json.loads(line)
