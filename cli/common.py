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
    """--format, and --raw for CSV as stored (emit reads it from the command's context)."""
    command = click.option(
        "--raw", is_flag=True, expose_value=False, callback=_note_raw,
        help="CSV: write cells as stored: no quote before a leading = + - @ (which a spreadsheet "
             "runs as a formula), control and bidi characters not escaped.",
    )(command)
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="table for people; json or csv for scripts.",
    )(command)


def _note_raw(context, parameter, value):
    context.meta["mcp_risk.raw"] = value


def reports_errors(command):
    """Turn the library's errors about bad input into a one-line message and exit status 1.

    Messages quote the input they are about: its control characters are shown escaped, so a key
    like "\\r" or "\\x1b[2J" can neither break the line nor drive the terminal."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except _bad_input() as error:
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


def _bad_input():
    """The library's errors about bad input. classifier.model.ModelError counts only once the
    classifier is loaded (nothing else raises it): a command that never classifies (a registry
    crawl, a search) does not import the rules and the model just to catch it."""
    model = sys.modules.get(f"{__package__.rpartition('.')[0]}.classifier.model")
    return (ManifestError, CatalogueError) if model is None else (ManifestError, CatalogueError, model.ModelError)


class _NoProgress:
    """What progress_bar gives when stderr is not a terminal: nothing written (a log is no place for it)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n_steps=1, current_item=None):
        pass


def progress_bar(length, label, quiet=False):
    """A progress bar on stderr when it is a terminal (and not `quiet`); otherwise nothing at all."""
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def counted(n, one, many=None):
    """`1 tool`, `2 tools`, `1,204 tools`: a count and the noun it governs."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


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
    names = [c in _NAME_COLUMNS for c in columns]
    if fmt == "csv":
        # A CSV file is opened in a spreadsheet, which runs a cell that starts with = + - @ (or a
        # tab or CR before one) as a formula, and shows bidi overrides as they reorder: each such
        # cell gets OWASP's leading quote, and what hides is escaped as in a table. --raw writes
        # the data as stored (click is told not to strip what looks like an ANSI code from it:
        # `\x1b[31mdelete` would print as `delete`, another name), escaped only on a terminal.
        context = click.get_current_context(silent=True)
        raw = bool(context and context.meta.get("mcp_risk.raw"))
        terminal = sys.stdout.isatty()
        if not raw:
            cells = [[csv_cell(c, name) for c, name in zip(row, names)] for row in cells]
        elif terminal:
            cells = [[visible(str(c)) for c in row] for row in cells]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(cells)
        click.echo(out.getvalue(), nl=False, color=raw and not terminal)
        return
    from tabulate import tabulate  # only tables need it

    click.echo(tabulate([[clip(c, name=name) for c, name in zip(row, names)] for row in cells], headers=columns))


# Columns that hold a name a person approves or a policy pins: look-alike letters in them are
# shown escaped too (`re\u0430d_file`), not only invisible characters.
_NAME_COLUMNS = frozenset(("tool", "server", "name"))
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value, name=False):
    """A CSV cell a spreadsheet shows as data: OWASP's leading `'` before = + - @ tab CR, and
    control, bidi and invisible characters (look-alike letters in a name) escaped."""
    if not isinstance(value, str):
        return value
    text = shown_name(value) if name else visible(value)
    return "'" + text if value.startswith(_FORMULA_START) else text


def _cell(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else value


def visible(text):
    """Text for a terminal: control, bidi and invisible characters shown as escapes (`\\x1b`,
    `\\u202e`), so a tool's name or description can neither send escape sequences to the terminal
    nor make itself look like something else. JSON (and CSV with --raw) keep the data as it is."""
    if text.isprintable():
        return text
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in _HIDDEN else c for c in text)


_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def shown_name(text):
    """A name for people: as `visible`, and with every letter not in ASCII escaped when the name
    mixes look-alike letters of another script with Latin ones (`re\u0430d_file`)."""
    text = visible(text)
    if text.isascii():
        return text
    from ..classifier.flags import look_alike

    if not look_alike(text):
        return text
    return "".join(c if c.isascii() else ascii(c)[1:-1] for c in text)


def clip(value, width=60, name=False):
    # (escaped before spaces are collapsed: a line or paragraph separator must show, not vanish)
    text = " ".join((shown_name(str(value)) if name else visible(str(value))).split())
    return text if len(text) <= width else text[: width - 1] + "…"
