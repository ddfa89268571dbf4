"""`mcp-risk classify`, `train` and `evaluate`: thin layers over the classifier and its training."""

import json
import sys

import click

from .common import json_line, reports_errors


@click.command("classify")
@click.option("--input", "-i", "input_file", required=True, type=click.File("r", encoding="utf-8"),
              help="JSON lines of MCP Tool objects (optional `id`, `server`), or one tools/list result; - for stdin.")
@reports_errors
def classify_command(input_file):
    """Classify tools without a catalogue: one JSON line out per tool, in input order.

    Each line: id (when given), server, name, category, risk, flags, confidence (0-1), evidence.
    """
    from .. import classifier
    from ..crawler.sources.tools_file import read_tools

    try:
        text = input_file.read()
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{input_file.name}: not UTF-8 text ({error.reason} at byte {error.start})")
    for tool in read_tools(text, input_file.name):
        result = classifier.classify(tool)
        out = {} if tool["id"] is None else {"id": tool["id"]}
        out.update(server=tool["server"], name=tool["name"], **result.as_dict())
        click.echo(json_line(out))


@click.command()
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="Labelled tools (JSON lines); default data/labels.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Where to write the model; default data/model/classifier.json.")
@reports_errors
def train(labels, output):
    """Rebuild the classifier's model from the hand-labelled tools.

    The model is plain JSON (vocabulary and weights; nothing to unpickle) and deterministic: the
    same labels always give the same file and version. The catalogue records which version
    classified each tool; re-crawling classifies again with the new one.
    """
    import time

    from ..classifier.training import LABELS, train as fit_and_write

    start = time.perf_counter()
    document, path = fit_and_write(labels or LABELS, output)
    click.echo(f"model {document['version']}: {len(document['weights'])} weighted features, "
               f"temperature {document['temperature']}, thresholds {document['thresholds']}; "
               f"trained in {time.perf_counter() - start:.1f} s -> {path}")


@click.command()
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), help="Labelled tools (JSON lines); default data/labels.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reports_errors
def evaluate(labels, fmt):
    """Measure the classifier on tools it has never seen.

    Five-fold cross-validation grouped by server (a server never sits on both sides), model
    refitted in every fold: macro-F1, per-category precision and recall and the confusion matrix,
    beside the same figures for the rules alone, the authors' annotations and PolicyLayer's labels
    (where present), and the flags.
    """
    from ..classifier.training import LABELS, evaluate as run_evaluation, format_report

    with click.progressbar(length=5, label="Cross-validating", file=sys.stderr) as bar:
        result = run_evaluation(labels or LABELS, progress=lambda fold: bar.update(1))
    if fmt == "json":
        result.pop("predictions")
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_report(result))


COMMANDS = (classify_command, train, evaluate)
