"""`mcp-risk classify`, `train` and `evaluate`: thin layers over the classifier and its training."""

import json
import sys

import click

from .common import json_line, reports_errors


@click.command("classify")
@click.option("--input", "-i", "input_file", required=True, type=click.File("rb"),
              help="JSON lines of MCP Tool objects (optional `id`, `server`), or one tools/list result, "
                   "gzipped or not; - for stdin.")
@reports_errors
def classify_command(input_file):
    """Classify tools without a catalogue: one JSON line out per tool, in input order.

    Each line: id (when given), server, name, category, risk, flags, confidence (0-1), evidence.
    What each category, risk and flag means: docs/taxonomy.md, the taxonomy, in the repository.
    """
    from .. import classifier
    from ..crawler.sources.tools_file import read_tools

    import gzip
    import zlib

    name = getattr(input_file, "name", "<stdin>")
    try:
        data = input_file.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})")
    except (OSError, EOFError, zlib.error) as error:
        raise click.ClickException(f"{name}: not a readable gzip file ({error})")
    tools = read_tools(text, name)
    if not tools:
        raise click.ClickException(f"{name}: empty input, no tools to classify")
    # Each tool is read with its server's other tools as context, as a crawl reads them: the tools
    # of one `server` (or, without one, of the input) are one server.
    servers = {}
    for tool in tools:
        servers.setdefault(tool["server"], {"tools": []})["tools"].append(tool)
    results = classifier.classify_many([(tool, servers[tool["server"]]) for tool in tools])
    lines = []
    for tool, result in zip(tools, results):
        out = {} if tool["id"] is None else {"id": tool["id"]}
        out.update(server=tool["server"], name=tool["name"], **result.as_dict())
        lines.append(json_line(out))
        if len(lines) == 1000:  # written in blocks: one echo per line costs more than classifying
            click.echo("\n".join(lines))
            lines = []
    if lines:
        click.echo("\n".join(lines))


def label_options(command):
    command = click.option("--live-labels", type=click.Path(exists=True, dir_okay=False),
                           help="Hand-labelled live-listed tools (JSON lines, one MCP Tool object per row); "
                                "default data/labels/live_labelled.jsonl.")(command)
    command = click.option("--labels", type=click.Path(exists=True, dir_okay=False),
                           help="Hand-labelled snapshot tools (JSON lines); default data/labels/tools_labelled.jsonl.")(command)
    return command


@click.command()
@label_options
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Where to write the model; default data/model/classifier.json.")
@reports_errors
def train(labels, live_labels, output):
    """Rebuild the classifier's model from the hand-labelled tools (both sets).

    The model is plain JSON (vocabulary and weights; nothing to unpickle) and deterministic: the
    same labels always give the same file and version. The catalogue records which version
    classified each tool; re-crawling classifies again with the new one.
    """
    import time

    from ..classifier.training import LABELS, LIVE_LABELS, train as fit_and_write
    from ..classifier.wordsense import WordNetMissing

    start = time.perf_counter()
    try:
        document, path = fit_and_write(labels or LABELS, output, live_labels or LIVE_LABELS)
    except WordNetMissing as error:  # what to install, in one line
        raise click.ClickException(str(error)) from None
    click.echo(f"model {document['version']}: {len(document['weights'])} weighted features, "
               f"temperature {document['temperature']}, thresholds {document['thresholds']}, "
               f"firm rules overruled at p >= {document['override']}; "
               f"trained in {time.perf_counter() - start:.1f} s -> {path}")


@click.command()
@label_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--poisoning", is_flag=True,
              help="Measure tool-poisoning detection instead: recall on the public attack sets in data/attacks "
                   "(MSB, MCPSecBench) by attack type, and false positives on the benign live-listed and "
                   "snapshot tools, each flagged one listed for review.")
@reports_errors
def evaluate(labels, live_labels, fmt, poisoning):
    """Measure the classifier on servers it has never seen.

    The headline: the live-listed tools of real servers, in five-fold cross-validation grouped by
    server (each fold trains on the other live servers plus the snapshot labels, leaving out any
    copy of a held-out server). Then the snapshot labels the same way. For each: macro-F1,
    per-category precision and recall, critical recall (destructive + financial), the confusion
    matrix, calibration, the flags and the worst errors, beside the rules alone, the authors'
    annotations and PolicyLayer's labels (where present).
    """
    if poisoning:
        from ..classifier.poisoning_eval import evaluate_poisoning, format_poisoning_report

        report = evaluate_poisoning()
        click.echo(json.dumps(report, indent=2) if fmt == "json" else format_poisoning_report(report))
        return
    from ..classifier.training import FOLDS, LABELS, LIVE_LABELS, evaluate as run_evaluation, format_report

    with click.progressbar(length=2 * FOLDS, label="Cross-validating", file=sys.stderr) as bar:
        result = run_evaluation(labels or LABELS, live_labels or LIVE_LABELS,
                                progress=lambda fold: bar.update(fold - bar.pos))
    if fmt == "json":
        result.pop("predictions")
        for report in result["sets"].values():
            report.pop("predictions")
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_report(result))


COMMANDS = (classify_command, train, evaluate)
