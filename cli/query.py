"""`mcp-risk search`, `show`, `stats`, `diff` and `serve`: thin layers over the catalogue's queries,
its history and Datasette (and, for `diff --policy`, the pins a policy carries)."""

import json
import sys

import click

from ..catalogue.db import open_catalogue
from .common import clip, counted, db_option, emit, format_option, reports_errors, shown_name, visible

GRADES = ("A", "B", "C", "D", "F")  # as classifier.grades.GRADES, without importing it on every start


@click.command()
@click.argument("text", required=False)
@click.option("--category", type=click.Choice(["read", "write", "execute", "destructive", "financial"]))
@click.option("--risk", type=click.Choice(["low", "medium", "high", "critical"]))
@click.option("--server", help="Only tools of this server (exact name).")
@click.option("--grade", type=click.Choice(GRADES), help="Only tools of servers with this grade (A best, F worst).")
@click.option("--flag", metavar="FLAG", help="Only tools carrying this flag: open_world, sends_data_out, touches_secrets, "
                                            "filesystem, suspicious_instructions, private_data, untrusted_content "
                                            "(docs/taxonomy.md).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@format_option
@db_option
@reports_errors
def search(text, category, risk, server, grade, flag, limit, fmt, db_path):
    """Full-text search over tool names and descriptions, best match first, with filters.

    TEXT uses words, not syntax: `mcp-risk search "delete repo"`. Without TEXT, lists the tools
    that pass the filters, riskiest first (then the surest).
    """
    from ..catalogue import queries
    from ..classifier.taxonomy import FLAGS  # here, not at start-up: it loads the classifier

    if flag is not None and flag not in FLAGS:
        raise click.BadParameter(f"{flag!r} is not one of {', '.join(FLAGS)}", param_hint="'--flag'")
    db = open_catalogue(db_path, create=False)
    if server:
        queries.server_id(db, server)  # an unknown server is an error, not an empty result
    rows = queries.search(db, text, category=category, risk=risk, server=server, grade=grade, flag=flag,
                          limit=limit + 1)  # one more than shown: to say when there are more
    if len(rows) > limit:
        rows = rows[:limit]
        if fmt == "table":  # scripts get what they asked for; people are told there is more
            click.echo(f"(the first {limit:,} matches; more match: --limit N shows more)", err=True)
    if fmt == "table" and not rows:
        click.echo("no tools match")  # (a bare header said nothing)
        return
    emit(rows, fmt, ["server", "tool", "category", "risk", "confidence", "flags", "description"])


@click.command()
@click.argument("server")
@format_option
@db_option
@reports_errors
def show(server, fmt, db_path):
    """One server: its grade (A-F) and the reasons for it, where it was seen, and every tool with
    its category, risk and evidence."""
    from ..catalogue import queries

    record = queries.show(open_catalogue(db_path, create=False), server)
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    if fmt == "table":
        _grade_lines(record)
        counts = ", ".join(f"{n} {c}" for c, n in record["categories"].items() if n)
        click.echo(f"{visible(record['name'])}  (sources: {visible(', '.join(record['sources']))}; "
                   f"{counted(len(record['tools']), 'tool')}: {counts})")
        if record["description"]:
            click.echo(clip(record["description"], 200))
        click.echo()
    for tool in record["tools"]:
        # a table shows the strongest evidence; a CSV keeps all of it, one item after another
        evidence = tool.get("evidence") or [""]
        tool["evidence"] = evidence[0] if fmt == "table" else " | ".join(evidence)
    emit(record["tools"], fmt, ["tool", "category", "risk", "confidence", "flags", "evidence"])


def _grade_lines(record, title=None):
    """`show` opens with the grade, then each reason with the tools behind it."""
    head = f"{visible(title)}  " if title else ""
    if not record.get("grade"):
        click.echo(f"{head}grade: none yet (no tools listed)")
        return
    click.echo(f"{head}grade {record['grade']}")
    for reason in record["grade_reasons"]:
        tools = ", ".join(shown_name(t) for t in reason["tools"])  # look-alike letters escaped, as in tables
        click.echo(f"  {reason['grade']}  {clip(reason['says'], 200)}: {clip(tools, 200)}")
    if not title:
        click.echo()


@click.command()
@click.option("--grade", type=click.Choice(GRADES), help="Count only servers with this grade, and their tools.")
@format_option
@db_option
@reports_errors
def stats(grade, fmt, db_path):
    """Counts across the catalogue: servers, servers by grade, tools, categories, risks, flags and
    the last crawls.

    A table shows both; json holds both (the crawls under `crawls`); csv, one table per file,
    holds the counts alone.
    """
    from ..catalogue import queries

    result = queries.stats(open_catalogue(db_path, create=False), grade=grade)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    rows = [{"what": "servers", "name": "", "count": result["servers"]},
            {"what": "tools", "name": "", "count": result["tools"]}]
    for what in ("grades", "categories", "risks", "flags"):
        rows += [{"what": what[:-1] if what != "categories" else "category", "name": k, "count": v}
                 for k, v in result[what].items()]
    emit(rows, fmt, ["what", "name", "count"])
    if fmt == "table" and result["crawls"]:
        click.echo()
        emit(result["crawls"], fmt, ["run", "source", "status", "finished_at", "tools_seen", "tools_added",
                                      "tools_changed", "tools_removed", "error_count"])



# A first crawl's diff is every tool (24,000 lines for the snapshot): a table stops here, saying so.
DIFF_TABLE_ROWS = 200


@click.command()
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
              help="A policy mcp-risk wrote (any format; for claude, its settings or .mcp-risk.json sidecar).")
@click.option("--since", help="A crawl run id (changes later crawls found) or an ISO time (changes seen after it).")
@click.option("--run", "run_id", type=int, help="Changes found by this crawl run.")
@click.option("--server", help="Only this server (with --since or --run).")
@click.option("--limit", type=click.IntRange(1, 1_000_000),
              help=f"At most this many changes (with --since or --run). A table shows {DIFF_TABLE_ROWS} unless told; "
                   "json and csv show all.")
@click.option("--exit-code", is_flag=True, help="Exit with status 1 when anything changed, as `git diff --exit-code`.")
@format_option
@db_option
@reports_errors
def diff(policy_file, since, run_id, server, limit, exit_code, fmt, db_path):
    """What changed since a policy was made, or since a crawl.

    With --policy: tools that are new (denied there by default), definitions that changed after the
    policy pinned their hash, risk that went up, tools gone. With --since or --run: what crawls
    added, changed (which fields, the description before and after, the risk before and after) or
    removed. A changed description is how a trusted tool turns malicious: it is caught here before
    it is trusted.
    """
    from ..catalogue import history
    from ..policies import pins

    if sum(map(bool, (policy_file, since, run_id is not None))) != 1:
        raise click.UsageError("give one of --policy FILE, --since RUN_OR_TIME or --run RUN")
    db = open_catalogue(db_path, create=False)
    more = False
    if policy_file:
        rows = pins.diff_policy(db, pins.load_pins(policy_file))
    else:
        if server:
            from ..catalogue.queries import server_id

            server_id(db, server)
        shown = limit or (DIFF_TABLE_ROWS if fmt == "table" else None)
        rows = history.diff_since(db, since, server, run=run_id, limit=shown + 1 if shown else None)
        more = shown is not None and len(rows) > shown
        rows = rows[:shown]
    if fmt == "table" and not rows:
        click.echo("no changes")
    elif fmt == "table":
        for row in rows:
            gained, lost = _flag_changes(row)
            row["fields"] = ",".join(row.get("fields") or [])
            row["flags"] = " ".join([f"+{f}" for f in gained] + [f"-{f}" for f in lost])
        emit(rows, fmt, ["server", "tool", "change", "fields", "risk_before", "risk", "flags", "note"])
        if more:
            click.echo(f"... more changes than these {len(rows)}: --limit N shows up to N, --format json or csv "
                       "all of them", err=True)
    elif fmt == "csv":
        # Two plain columns: a `+flag` cell would get a spreadsheet's anti-formula quote.
        for row in rows:
            row["flags_gained"], row["flags_lost"] = _flag_changes(row)
        emit(rows, fmt, ["server", "tool", "change", "fields", "risk_before", "risk", "category", "grade_before",
                         "grade", "flags_gained", "flags_lost", "note"])
    else:
        emit(rows, fmt, [])  # JSON lines: every field of each row
    if exit_code and rows:
        sys.exit(1)


def _flag_changes(row):
    """(flags gained, flags lost): a new tool gains all of its own. A pin diff, which knows no
    flags, shows none."""
    if row.get("change") == "new" and not row.get("flags_gained") and isinstance(row.get("flags"), list):
        return row["flags"], []
    return row.get("flags_gained") or [], row.get("flags_lost") or []


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default).")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@db_option
@reports_errors
def serve(host, port, db_path):
    """Browse the catalogue in Datasette: facets by category and risk, full-text search, and canned
    queries (critical tools per server, servers by risk, recently changed tools). Read-only."""
    from ..catalogue.serve import serve as run_server

    open_catalogue(db_path, create=False).conn.close()  # a missing or broken catalogue fails here, clearly
    click.echo(f"serving {db_path} at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(db_path, host=host, port=port)


@click.command()
@click.argument("servers", nargs=-1)
@click.option("--grade", "only", type=click.Choice(GRADES), help="Only servers with this grade.")
@format_option
@db_option
@reports_errors
def grade(servers, only, fmt, db_path):
    """Servers' grades, A (only reads) to F (hidden instructions, or a toxic flow inside), with the
    reasons, each naming its tools, and the toxic flows, each naming its three tools: where untrusted
    content comes in, which private data it can reach, and the channel that sends it out.

    Without SERVER, every graded server. JSON: one object per server with server, grade, reasons
    and flows. The grade is kept in the catalogue and follows every crawl and reclassification.
    """
    from ..catalogue.grading import grades

    rows = grades(open_catalogue(db_path, create=False), list(servers) or None, grade=only)
    if fmt == "json":
        emit([{k: r[k] for k in ("server", "grade", "reasons", "flows")} for r in rows], fmt, [])
        return
    if fmt == "table":
        if not rows:
            click.echo("no graded servers")
        for row in rows:
            _grade_lines({"grade": row["grade"], "grade_reasons": row["reasons"]}, title=row["server"])
            for flow in row["flows"]:
                click.echo("  toxic flow: " + clip(" -> ".join(
                    f"{leg} {shown_name(flow[leg]['tool'])}" for leg in ("untrusted", "private", "out")), 200))
        return
    flat = []
    for row in rows:
        flat.append({
            "server": row["server"], "grade": row["grade"],
            "reasons": "; ".join(f"{r['grade']} {r['says']}: {', '.join(r['tools'])}" for r in row["reasons"]),
            "flows": "; ".join(f"{f['untrusted']['tool']} -> {f['private']['tool']} -> {f['out']['tool']}"
                               for f in row["flows"]),
        })
    emit(flat, fmt, ["server", "grade", "reasons", "flows"])


COMMANDS = (search, show, stats, diff, serve, grade)
