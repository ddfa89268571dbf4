"""Classify MCP tools by what a call can do: category, risk, flags, confidence and evidence.

    >>> from mcp_risk.classifier import classify
    >>> classify({"name": "delete_repository", "description": "Delete a repository"}).category
    'destructive'

A plain library: it reads MCP Tool objects (mappings with `name`, `title`, `description`,
`inputSchema`, `annotations`) and knows nothing of where they came from or where they go.
Readable rules (classifier.rules, classifier.flags) fire with evidence; a linear model trained on
hand-labelled tools (classifier.model, weights in data/model/classifier.json) weighs that evidence
with the tool's words into one calibrated probability. Without the model file, the rules decide.
A server's classified tools give its grade A-F and its toxic flows (classifier.grades).
"""

import os
from math import exp
from typing import NamedTuple

from .analysis import analyse
from .context import context_signature
from .taxonomy import CATEGORIES, FLAGS, RISK, RISKS, SEVERITY

RULES_VERSION = "rules-0.6"
VERSION = RULES_VERSION  # the version of the rules alone; see current_version()

__all__ = ["CATEGORIES", "FLAGS", "RISK", "RISKS", "SEVERITY", "VERSION", "Classification", "classify",
           "classify_many", "context_signature", "current_version", "use_model"]

_MAX_EVIDENCE = 8
GUESS_CONFIDENCE = 0.5  # the most a guess is worth when nothing in the definition names an action
_UNSET = object()
_model = _UNSET
_model_version = RULES_VERSION
_model_flags_in_order = True  # the model's flags come in the order of FLAGS


class Classification(NamedTuple):
    """What `classify` says of one tool (immutable)."""

    category: str
    risk: str
    flags: tuple
    confidence: float
    evidence: tuple
    version: str = VERSION

    def as_dict(self):
        return {
            "category": self.category,
            "risk": self.risk,
            "flags": list(self.flags),
            "confidence": self.confidence,
            "evidence": list(self.evidence),
        }


_new_classification = tuple.__new__  # Classification's six fields, in order


def use_model(model):
    """Classify with this LinearModel (None: rules only). By default the bundled one is loaded."""
    global _model, _model_version, _model_flags_in_order
    from . import lexicon, rules

    lexicon.use_learned(model.lexicon if model is not None else None)
    rules.reset_caches()
    _model = model
    _model_version = RULES_VERSION if model is None else f"{RULES_VERSION}+model-{model.version}"
    _model_flags_in_order = model is None or [f for f in FLAGS if f in model.flags] == list(model.flags)


def _current_model():
    if _model is _UNSET:
        from .model import LinearModel, default_path

        path = default_path()
        use_model(LinearModel.load(path) if path.exists() else None)
    return _model


def current_version():
    """What classifies now: the rules' version, plus the model's when one is loaded."""
    model = _current_model()
    return RULES_VERSION if model is None else f"{RULES_VERSION}+model-{model.version}"


def classify(tool, server=None):
    """Classify one MCP tool object. `server` is context: a mapping with the server's `tools` (the other
    tools of its server, as every path passes them; its name is never read)."""
    analysis = analyse(tool, server)
    model = _model if _model is not _UNSET else _current_model()
    rule_flags = analysis.rule_flags
    if model is None:
        category, confidence = analysis.rule_category, analysis.rule_confidence
        flags = dict(rule_flags)
        reasons = analysis.reasons(category)
        version = RULES_VERSION
        in_order = False
    else:
        scores = model.analysis_scores(analysis.feature_groups())
        probabilities, category = model.decide_category(scores, analysis.rule_category, analysis.firm)
        probability = probabilities[category]
        confidence = round(min(probability, GUESS_CONFIDENCE) if analysis.guess else probability, 2)
        reasons = analysis.reasons(category)
        reasons.append(f"model: p({category}) = {probability:.2f}")
        # The model may add a flag, never drop one a rule set with evidence. A flag is set at
        # p >= 0.5 (as `LinearModel.decide` gives it); p < 0.5 wherever the score is below -1e-9,
        # so only the others need the logistic function.
        flags = dict(rule_flags)
        for flag, score in zip(model.flags, scores[len(model.classes):]):
            if score > -1e-9 and flag not in flags:
                probability = 1.0 / (1.0 + exp(-max(min(score, 50.0), -50.0)))
                if probability >= 0.5:
                    flags[flag] = f"model: p = {probability:.2f}"
        version = _model_version
        in_order = False
    if flags:
        reasons = reasons[: _MAX_EVIDENCE - min(len(flags), 3)]
        reasons += [f"{flag}: {why}" for flag, why in flags.items()]
        evidence = tuple(reasons[:_MAX_EVIDENCE + 2])
        flags = tuple(flags) if in_order else tuple(flag for flag in FLAGS if flag in flags)
    else:
        evidence = tuple(reasons[:_MAX_EVIDENCE])
        flags = ()
    confidence = 0.01 if confidence < 0.01 else 0.99 if confidence > 0.99 else confidence
    return _new_classification(Classification, (category, RISK[category], flags, confidence, evidence, version))


# Below this many tools a batch is classified in this process: starting workers costs more.
PARALLEL_BATCH = 4000
_batch = ()  # the batch being classified, inherited by forked workers (nothing is pickled to them)


def _classify_slice(bounds):
    start, stop = bounds
    return [classify(tool, server) for tool, server in _batch[start:stop]]


def classify_many(items, processes=None):
    """Classify (tool, server) pairs, in order: the same verdicts as `classify` on each.

    A large batch is split across the machine's cores, in worker processes forked from this one
    (they inherit the loaded model and the batch); where processes cannot be forked, or the batch
    is small, it is classified here."""
    global _batch
    items = items if isinstance(items, list) else list(items)
    processes = processes or min(os.cpu_count() or 1, 8)
    if processes < 2 or len(items) < PARALLEL_BATCH or "fork" not in _start_methods():
        return [classify(tool, server) for tool, server in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    current_version()  # load the model before forking: every worker inherits it
    step = -(-len(items) // (processes * 4))
    slices = [(start, min(start + step, len(items))) for start in range(0, len(items), step)]
    _batch = items
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            results = []
            for part in pool.map(_classify_slice, slices):
                results.extend(part)
            return results
    except (OSError, RuntimeError):  # no processes to be had here (limits, a sandbox): one core then
        return [classify(tool, server) for tool, server in items]
    finally:
        _batch = ()


def _start_methods():
    import multiprocessing

    return multiprocessing.get_all_start_methods()
