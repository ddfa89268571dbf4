"""What every command module of the CLI shares: the common options, how errors and output look,
and the exit statuses. It imports no command module."""

import csv
import functools
import io
import json
import os
import sys
import unicodedata

import click

from ..catalogue.db import CatalogueError
from ..classifier.model import ModelError
from ..crawler import ManifestError

FORMATS = ("table", "json", "csv")

# Exit statuses shared by the crawl commands (see `mcp-risk crawl --help`).
EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_PARTIAL, EXIT_FAILED, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130


def db_option(command):
    return click.option(
        "--db", "db_path", default="catalogue.db", envvar="MCP_RISK_DB", show_default=True,
        type=click.Path(dir_okay=False), help="Catalogue database file (or set MCP_RISK_DB).",
    )(command)


def format_option(command):
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="table for people; json or csv for scripts.",
    )(command)


def reports_errors(command):
    """Turn the library's errors about bad input into a one-line message and exit status 1.

    Messages quote the input they are about: its control characters are shown escaped, so a key
    like "\\r" or "\\x1b[2J" can neither break the line nor drive the terminal."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ManifestError, CatalogueError, ModelError) as error:
            raise click.ClickException(visible(str(error))) from None
        except BrokenPipeError:
            # The reader stopped (`mcp-risk search x | head`): not an error to report. Point stdout
            # at /dev/null so the interpreter's last flush does not fail again, and exit as SIGPIPE would.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except OSError as error:
            where = f"{error.filename}: " if getattr(error, "filename", None) else ""
            raise click.ClickException(visible(f"{where}{error.strerror or error}")) from None

    return wrapper


def progress_bar(length, label):
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(value):
    """One JSON line. U+0085, U+2028 and U+2029 are escaped too: JSON lets them through raw, but
    str.splitlines() and other line readers break a line at them. (They only occur inside strings.)"""
    line = json.dumps(value, ensure_ascii=False)
    # (three scans in C are far cheaper than a translate of every line; most lines hold none)
    return line.translate(_LINE_BREAKS) if "\x85" in line or "\u2028" in line or "\u2029" in line else line


def emit(rows, fmt, columns):
    """Rows (dicts) as a table, JSON lines or CSV on stdout."""
    if fmt == "json":
        for row in rows:
            click.echo(json_line(row))
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if fmt == "csv":
        # For scripts, the data as it is: click would strip anything that looks like an ANSI code
        # (`\x1b[31mdelete` would print as `delete`, another name), so it is told not to. On a
        # terminal, what could drive it is shown escaped, as in a table.
        terminal = sys.stdout.isatty()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[visible(str(c)) for c in row] for row in cells] if terminal else cells)
        click.echo(out.getvalue(), nl=False, color=not terminal)
        return
    from tabulate import tabulate  # only tables need it

    click.echo(tabulate([[clip(c) for c in row] for row in cells], headers=columns))


def _cell(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else value


def visible(text):
    """Text for a terminal: control, bidi and invisible characters shown as escapes (`\\x1b`,
    `\\u202e`), so a tool's name or description can neither send escape sequences to the terminal
    nor make itself look like something else. JSON and CSV output keep the data as it is."""
    if text.isprintable():
        return text
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in _HIDDEN else c for c in text)


_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def clip(value, width=60):
    text = visible(" ".join(str(value).split()))
    return text if len(text) <= width else text[: width - 1] + "…"
