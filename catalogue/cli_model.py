"""`mcp-risk train` and `mcp-risk evaluate`: thin layers over classifier.training."""

import json
import sys

import click

from .cli import reports_errors


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

    from classifier.training import LABELS, train as fit_and_write

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
    from classifier.training import LABELS, evaluate as run_evaluation, format_report

    with click.progressbar(length=5, label="Cross-validating", file=sys.stderr) as bar:
        result = run_evaluation(labels or LABELS, progress=lambda fold: bar.update(1))
    if fmt == "json":
        result.pop("predictions")
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_report(result))
