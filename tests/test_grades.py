"""Server grades and toxic flows (classifier.grades) on real tool lists, and their two laws:
adding a tool never improves a grade, and grading again changes nothing."""

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_risk.classifier import CATEGORIES, FLAGS, classify
from mcp_risk.crawler.sources.snapshot import default_path
from mcp_risk.classifier.grades import GRADES, RANK, Flow, ToolRef, grade_config, grade_server

CAPTURES = Path(__file__).parent / "fixtures" / "reference" / "tools_list_snapshots"
LIVE = Path("/work/shared/labels/live_labelled.jsonl")


def capture(name):
    """A real tools/list capture, classified by the real classifier."""
    tools = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))["tools"]
    return [{"tool": t["name"], **classify(t).as_dict()} for t in tools]


def snapshot_server(name):
    """A server's real tools from the bundled snapshot, classified."""
    with gzip.open(default_path(), "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if name in line]
    tools = [{"name": r["tool"], "description": r.get("description"), "inputSchema": r.get("input_schema") or {}}
             for r in rows if r["server"] == name]
    assert tools, name
    return [{"tool": t["name"], **classify(t).as_dict()} for t in tools]


@pytest.fixture(scope="module")
def fetch():
    return capture("mcp-server-fetch")


@pytest.fixture(scope="module")
def filesystem():
    return capture("server-filesystem")


@pytest.fixture(scope="module")
def mail():
    return snapshot_server("@resend/mcp-send-email")


def legs(tools):
    return {leg: sorted(t["tool"] for t in tools if flag in t["flags"])
            for leg, flag in (("untrusted", "untrusted_content"), ("private", "private_data"), ("out", "sends_data_out"))}


def test_each_real_server_has_its_one_leg(fetch, filesystem, mail):
    assert legs(fetch)["untrusted"] == ["fetch"] and not legs(fetch)["private"] and not legs(fetch)["out"]
    assert legs(filesystem)["private"] and not legs(filesystem)["untrusted"] and not legs(filesystem)["out"]
    assert legs(mail)["out"] == ["send-email"] and not legs(mail)["private"] and not legs(mail)["untrusted"]


def test_alone_no_server_has_a_flow(fetch, filesystem, mail):
    for name, tools in (("fetch", fetch), ("filesystem", filesystem), ("mail", mail)):
        assert grade_server(tools, name).flows == ()
        assert grade_config({name: tools}).flows == ()
    # Two legs out of three are no flow either.
    assert grade_config({"fetch": fetch, "filesystem": filesystem}).flows == ()
    assert grade_config({"fetch": fetch, "mail": mail}).flows == ()
    assert grade_config({"filesystem": filesystem, "mail": mail}).flows == ()


def test_three_real_servers_in_one_config_give_exactly_the_cross_server_flow(fetch, filesystem, mail):
    config = grade_config({"fetch": fetch, "filesystem": filesystem, "mail": mail})
    private = legs(filesystem)["private"][0]
    assert config.flows == (Flow(ToolRef("fetch", "fetch"), ToolRef("filesystem", private), ToolRef("mail", "send-email")),)
    assert config.all_flows() == config.flows
    # Each server keeps its own grade: no in-server flow, so none is F.
    assert {n: g.grade for n, g in config.servers.items()} == {
        "fetch": grade_server(fetch).grade, "filesystem": grade_server(filesystem).grade, "mail": "C"}
    assert config.as_dict()["flows"] == [{"untrusted": {"server": "fetch", "tool": "fetch"},
                                          "private": {"server": "filesystem", "tool": private},
                                          "out": {"server": "mail", "tool": "send-email"}}]


def test_grades_of_real_servers_name_their_tools(fetch, filesystem, mail):
    fs = grade_server(filesystem, "filesystem")
    # The filesystem server overwrites files (write_file replaces one): destructive, so D.
    assert fs.grade == "D"
    d = [r for r in fs.reasons if r.grade == "D"]
    assert d and all(set(r.tools) <= {t["tool"] for t in filesystem} for r in fs.reasons)
    assert "write_file" in d[0].tools
    assert grade_server(fetch).grade == "A"
    assert [r.tools for r in grade_server(fetch).reasons] == [("fetch",)]
    m = grade_server(mail, "mail")
    assert m.grade == "C" and any("send-email" in r.tools and "sends data out" in r.says for r in m.reasons)


def live_servers():
    servers = {}
    for line in LIVE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        servers.setdefault(row["server"], []).append(row)
    return servers


def test_a_live_server_with_all_three_legs_is_F_with_a_flow_per_channel_out():
    # hostinger-api-mcp, as listed live and labelled by hand: untrusted, private and out legs inside.
    tools = live_servers()["hostinger-api-mcp"]
    grade = grade_server(tools, "hostinger-api-mcp")
    assert grade.grade == "F"
    out = sorted(t["tool"] for t in tools if "sends_data_out" in t["flags"])
    assert [f.out.tool for f in grade.flows] == out
    for flow in grade.flows:
        by_name = {t["tool"]: set(t["flags"]) for t in tools}
        assert "untrusted_content" in by_name[flow.untrusted.tool] and "private_data" in by_name[flow.private.tool]
    assert grade.reasons[0].grade == "F" and set(out) <= set(grade.reasons[0].tools)


def test_every_live_server_grade_is_stable_and_explained():
    for name, tools in live_servers().items():
        first = grade_server(tools, name)
        assert grade_server(list(reversed(tools)), name) == first  # order of listing changes nothing
        assert grade_server(tools, name) == first
        assert first.grade == max((r.grade for r in first.reasons), key=RANK.__getitem__)
        assert all(r.tools for r in first.reasons)


tool_strategy = st.fixed_dictionaries({
    "tool": st.text(alphabet="abcdefgh_", min_size=1, max_size=6),
    "category": st.one_of(st.none(), st.sampled_from(CATEGORIES)),
    "flags": st.lists(st.sampled_from(FLAGS), unique=True, max_size=4),
})
tools_strategy = st.lists(tool_strategy, max_size=12, unique_by=lambda t: t["tool"])


@settings(max_examples=300, deadline=None)
@given(tools_strategy, tool_strategy)
def test_adding_a_tool_never_improves_a_grade(tools, extra):
    tools = [t for t in tools if t["tool"] != extra["tool"]]
    before, after = grade_server(tools, "s"), grade_server([*tools, extra], "s")
    assert RANK[after.grade] >= RANK[before.grade]
    assert {f.out for f in before.flows} <= {f.out for f in after.flows}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), tools_strategy, max_size=4),
       st.sampled_from(["a", "b", "c", "d", "e"]), tool_strategy)
def test_adding_a_tool_to_a_config_never_drops_a_flow_or_improves_a_grade(servers, where, extra):
    before = grade_config(servers)
    tools = [t for t in servers.get(where, []) if t["tool"] != extra["tool"]]
    removed = len(tools) != len(servers.get(where, []))
    after = grade_config({**servers, where: [*tools, extra]})
    if removed:
        return  # a replaced tool is not an added one
    assert {f.out for f in before.all_flows()} <= {f.out for f in after.all_flows()}
    for name, grade in before.servers.items():
        assert RANK[after.servers[name].grade] >= RANK[grade.grade]


@settings(max_examples=200, deadline=None)
@given(tools_strategy)
def test_grading_again_changes_nothing(tools):
    first = grade_server(tools, "s")
    assert grade_server(list(reversed(tools)), "s") == first
    assert first.grade in GRADES and first.as_dict() == grade_server(tools, "s").as_dict()


@pytest.mark.parametrize("profile", ["balanced", "strict", "permissive"])
def test_profiles_and_the_toxic_flow_inside_a_real_server(profile):
    from mcp_risk.policies.decisions import decide
    from mcp_risk.policies.formats import render

    tools = live_servers()["hostinger-api-mcp"]
    flows = grade_server(tools, "hostinger-api-mcp").flows
    decided = {d.tool: d for d in decide("hostinger-api-mcp", tools, profile)}
    for flow in flows:
        d = decided[flow.out.tool]
        if profile == "permissive":
            assert d.action == "allow" and "leaves a toxic flow open" in d.reason and "permissive" in d.reason
        else:
            assert d.action in ("ask", "deny", "hide") and "breaks a toxic flow" in d.reason
            assert flow.untrusted.tool in d.reason and flow.private.tool in d.reason
    # A tool that is no channel out keeps its profile's rule and says nothing of flows.
    assert not any("toxic flow" in d.reason for t, d in decided.items() if t not in {f.out.tool for f in flows})
    if profile != "permissive":
        # Intercept cannot ask a human: the channel out is denied there.
        text, _ = render("intercept", "hostinger-api-mcp", profile, list(decided.values()))
        assert all(f"{f.out.tool}:" in text or f'"{f.out.tool}":' in text for f in flows)
        assert "Intercept cannot ask for" in text or profile == "strict"
