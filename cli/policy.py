"""`mcp-risk policy` and `mcp-risk export-policies`: thin layers over `policies` (decide, render, write)."""

import click

from ..catalogue.db import open_catalogue
from .common import db_option, progress_bar, reports_errors, visible


def policy_options(command):
    command = click.option("--overrides", type=click.Path(exists=True, dir_okay=False),
                           help="YAML or JSON file of decisions that win over the profile.")(command)
    command = click.option("--profile", type=click.Choice(["strict", "balanced", "permissive"]), default="balanced",
                           show_default=True, help="balanced follows the taxonomy's table.")(command)
    command = click.option("--format", "fmt", type=click.Choice(["policylayer", "intercept", "claude", "cedar"]),
                           default="policylayer", show_default=True, help="Which gateway or client reads the file.")(command)
    return command


def _load_overrides(path):
    from ..policies.decisions import Overrides, OverridesError

    try:
        return Overrides.load(path) if path else None
    except OverridesError as error:
        raise click.ClickException(visible(str(error))) from None


@click.command()
@click.argument("server")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@policy_options
@click.option("--claude-server", help="The server's name in your Claude Code config (claude format); default: its catalogue name.")
@db_option
@reports_errors
def policy(server, output, fmt, profile, overrides, claude_server, db_path):
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
    permissions; reasons go to a .mcp-risk.json sidecar), cedar (ToolHive).
    A format that cannot ask for approval denies instead. Every decision carries its
    reason and the tool's definition hash, which `mcp-risk diff --policy` checks later.
    """
    from ..policies.export import server_policy, sidecar_name, write_atomically

    text, sidecar = server_policy(open_catalogue(db_path, create=False), server, fmt, profile,
                                  _load_overrides(overrides), claude_server)
    if output:
        write_atomically(output, text)
        click.echo(f"wrote {output}", err=True)
        if sidecar is not None:
            write_atomically(sidecar_name(output), sidecar)
            click.echo(f"wrote {sidecar_name(output)} (reasons and pins)", err=True)
    else:
        click.echo(text, nl=False)


@click.command("export-policies")
@click.argument("directory", type=click.Path(file_okay=False))
@policy_options
@db_option
@reports_errors
def export_policies(directory, fmt, profile, overrides, db_path):
    """Write one policy per server into DIRECTORY, plus _index.json.

    File names are safe whatever a server is called: plain lowercase names are kept, others are
    slugged with a short hash of the real name. Existing files of the same names are replaced.
    See `mcp-risk policy --help` for profiles and formats.
    """
    from ..policies.export import export_policies as export

    rules = _load_overrides(overrides)
    db = open_catalogue(db_path, create=False)
    servers = db.execute("SELECT count(DISTINCT server_id) FROM tools WHERE status = 'listed'").fetchone()[0]
    with progress_bar(servers, "Writing policies") as bar:
        index = export(db, directory, progress=bar.update, fmt=fmt, profile=profile, overrides=rules)
    hidden = sum(entry["hide"] for entry in index)
    click.echo(f"wrote {len(index)} {fmt} policies to {directory} ({hidden} tools hidden); index: {directory}/_index.json")


COMMANDS = (policy, export_policies)
