"""`mcp-risk policy` and `mcp-risk export-policies`: thin layers over `policies` (decide, render, write)."""

import json

import click

from ..catalogue.db import open_catalogue
from .common import counted, db_option, progress_bar, reports_errors, visible


FORMATS = ("policylayer", "intercept", "claude", "cedar")  # policies.formats.FORMATS


def policy_options(command, formats=FORMATS, says="Which gateway or client reads the file."):
    command = click.option("--overrides", type=click.Path(exists=True, dir_okay=False),
                           help="YAML or JSON file of decisions that win over the profile.")(command)
    command = click.option("--profile", type=click.Choice(["strict", "balanced", "permissive"]), default="balanced",
                           show_default=True, help="balanced follows the taxonomy's table.")(command)
    command = click.option("--format", "fmt", type=click.Choice(formats), default="policylayer", show_default=True,
                           help=says)(command)
    return command


def _load_overrides(path):
    from ..policies.decisions import Overrides, OverridesError

    try:
        return Overrides.load(path) if path else None
    except OverridesError as error:
        raise click.ClickException(visible(str(error))) from None


def _warn_unmatched(rules, path, whole_catalogue):
    lines = rules.unmatched(whole_catalogue) if rules else []
    for line in lines[:20]:
        click.echo(visible(f"warning: {path}: {line} (the rule applies to nothing)"), err=True)
    if len(lines) > 20:
        click.echo(f"warning: {path}: ... and {len(lines) - 20} more entries that apply to nothing", err=True)


@click.command()
@click.argument("server")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@policy_options
@click.option("--claude-server", metavar="KEY",
              help="The server's key in your Claude Code config (`mcpServers` in .mcp.json), for --format claude. "
                   "Without it the key is guessed from the catalogue name, with a warning.")
@click.option("--force", is_flag=True,
              help="With --format claude -o: replace an existing settings file instead of merging into it.")
@db_option
@reports_errors
def policy(server, output, fmt, profile, overrides, claude_server, force, db_path):
    """The recommended policy for one server.

    \b
    Profiles (suspicious tools are hidden in all of them):
      balanced    read allow; write allow 30/min; execute allow 10/min, approval
                  recommended; destructive hidden; financial only with approval per call
      strict      read allow; write with approval; execute denied; destructive and
                  financial hidden
      permissive  read and write allow; execute 30/min; destructive and financial
                  with approval per call
    \b
    Formats: policylayer (policy.json), intercept (YAML), claude (settings.json
    permissions), cedar (ToolHive). policylayer and claude keep reasons and pins in a
    .mcp-risk.json sidecar beside the -o file. A format that cannot ask for approval
    denies instead; one that cannot rate-limit allows without the limit (a warning says so).
    Every decision carries its reason and the tool's definition hash, which
    `mcp-risk diff --policy` checks later.

    \b
    With --format claude -o FILE, an existing settings file is merged into: every other
    key and rule is kept, and only this server's mcp__<KEY>__<tool> rules are replaced.
    """
    from pathlib import Path

    from ..policies.export import server_policy, sidecar_name, write_atomically
    from ..policies.formats import PolicyFormatError, claude_prefix, merge_claude_settings, pins

    rules = _load_overrides(overrides)
    text, sidecar = server_policy(open_catalogue(db_path, create=False), server, fmt, profile, rules, claude_server)
    _warn_unmatched(rules, overrides, whole_catalogue=False)
    if fmt == "claude" and not claude_server:
        click.echo(visible(f"warning: {server}: its key in your Claude Code config was guessed as "
                           f"{json.loads(sidecar)['claude_server']!r}; pass --claude-server KEY if it is another"), err=True)
    if fmt in UNLIMITED:
        decisions = pins(sidecar or text)["decisions"].values()
        _warn_unlimited(fmt, sum(1 for d in decisions if d.get("action") == "allow" and d.get("per_minute")))
    if output and fmt == "claude" and Path(output).exists() and not force:
        key = json.loads(sidecar)["claude_server"]
        try:
            existing = Path(output).read_text(encoding="utf-8")
            text = merge_claude_settings(existing, json.loads(text), claude_prefix(key))
        except (OSError, UnicodeDecodeError, PolicyFormatError) as error:
            raise click.ClickException(visible(f"{output}: cannot merge into it ({error}); --force replaces it")) from None
    if output:
        write_atomically(output, text)
        click.echo(f"wrote {output}", err=True)
        if sidecar is not None:
            write_atomically(sidecar_name(output), sidecar)
            click.echo(f"wrote {sidecar_name(output)} (reasons and pins)", err=True)
    else:
        click.echo(text, nl=False)
        if sidecar is not None:  # this format keeps its pins beside the file, and there is no file
            click.echo(f"note: the reasons and pins that `mcp-risk diff --policy` reads go in a sidecar file, "
                       f"written only with -o FILE", err=True)


# Formats with no way to say a rate limit: a rate-limited tool is a plain allow there.
UNLIMITED = {"policylayer": "policy.json (as documented)", "claude": "Claude Code", "cedar": "Cedar"}


def _warn_unlimited(fmt, count):
    if count:
        click.echo(f"warning: {UNLIMITED[fmt]} cannot rate-limit: {count} rate-limited "
                   f"tool{'s are' if count != 1 else ' is'} allowed without a limit", err=True)


def _claude_keys(pairs):
    keys = {}
    for pair in pairs:
        server, equals, key = pair.rpartition("=")
        if not equals or not server or not key:
            raise click.BadParameter(visible(f"{pair!r}: expected SERVER=KEY"), param_hint="--claude-server")
        keys[server] = key
    return keys


def _export_options(command):
    return policy_options(command, (*FORMATS, "all"), "Which gateway or client reads the files; all: each "
                                                      "format in its own subfolder (DIRECTORY/intercept/...).")


@click.command("export-policies")
@click.argument("directory", type=click.Path(file_okay=False))
@_export_options
@click.option("--claude-server", "claude_servers", multiple=True, metavar="SERVER=KEY",
              help="A catalogue server's key in your Claude Code config, for --format claude; repeat for each. "
                   "Other servers' keys are guessed, with a warning.")
@db_option
@reports_errors
def export_policies(directory, fmt, profile, overrides, claude_servers, db_path):
    """Write one policy per server into DIRECTORY, plus _index.json.

    File names are safe whatever a server is called: plain lowercase names are kept, others are
    slugged with a short hash of the real name. Existing files of the same names are replaced.
    See `mcp-risk policy --help` for profiles and formats.
    """
    from pathlib import Path

    from ..policies.export import export_policies as export

    keys = _claude_keys(claude_servers)
    rules = _load_overrides(overrides)
    db = open_catalogue(db_path, create=False)
    servers = db.execute("SELECT count(DISTINCT server_id) FROM tools WHERE status = 'listed'").fetchone()[0]
    for number, each in enumerate(FORMATS if fmt == "all" else [fmt]):
        folder = Path(directory) / each if fmt == "all" else directory
        with progress_bar(servers, f"Writing {each} policies") as bar:
            index = export(db, folder, progress=bar.update, fmt=each, profile=profile, overrides=rules,
                           claude_servers=keys)
        if number == 0:  # every format decides the same way: said once
            _warn_unmatched(rules, overrides, whole_catalogue=True)
        _say_exported(index, each, folder)


def _say_exported(index, fmt, directory):
    hidden = sum(entry["hide"] for entry in index)
    if fmt == "claude":
        guessed = [entry for entry in index if entry["claude_server_guessed"]]
        if guessed:
            click.echo(f"warning: the keys in your Claude Code config of {counted(len(guessed), 'server')} were "
                       f"guessed from catalogue names (see claude_server in _index.json); pass --claude-server "
                       f"SERVER=KEY", err=True)
    if fmt in UNLIMITED:
        _warn_unlimited(fmt, sum(entry["rate_limited"] for entry in index))
    click.echo(f"wrote {counted(len(index), fmt + ' policy', fmt + ' policies')} to {directory} "
               f"({counted(hidden, 'tool')} hidden); index: {directory}/_index.json")


COMMANDS = (policy, export_policies)
