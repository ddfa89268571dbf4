"""Classify MCP tools by what a call can do: category, risk, flags, confidence and evidence.

    >>> from classifier import classify
    >>> classify({"name": "delete_repository", "description": "Delete a repository"}).category
    'destructive'

A plain library: it reads MCP Tool objects (mappings with `name`, `title`, `description`,
`inputSchema`, `annotations`) and knows nothing of where they came from or where they go.
Readable rules (classifier.rules, classifier.flags) fire with evidence; a linear model trained on
hand-labelled tools (classifier.model, weights in data/model/classifier.json) weighs that evidence
with the tool's words into one calibrated probability. Without the model file, the rules decide.
"""

from dataclasses import dataclass

from .analysis import analyse
from .taxonomy import CATEGORIES, FLAGS, RISK, RISKS, SEVERITY

RULES_VERSION = "rules-0.3"
VERSION = RULES_VERSION  # the version of the rules alone; see current_version()

__all__ = ["CATEGORIES", "FLAGS", "RISK", "RISKS", "SEVERITY", "VERSION", "Classification", "classify",
           "current_version", "use_model"]

_MAX_EVIDENCE = 8
_UNSET = object()
_model = _UNSET


@dataclass(frozen=True, slots=True)
class Classification:
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


def use_model(model):
    """Classify with this LinearModel (None: rules only). By default the bundled one is loaded."""
    global _model
    _model = model


def _current_model():
    global _model
    if _model is _UNSET:
        from .model import LinearModel, default_path

        path = default_path()
        _model = LinearModel.load(path) if path.exists() else None
    return _model


def current_version():
    """What classifies now: the rules' version, plus the model's when one is loaded."""
    model = _current_model()
    return RULES_VERSION if model is None else f"{RULES_VERSION}+model-{model.version}"


def classify(tool, server=None):
    """Classify one MCP tool object. `server` (name, description) is context for the model."""
    analysis = analyse(tool, server)
    model = _current_model()
    if model is None:
        category, confidence = analysis.rule_category, analysis.rule_confidence
        flags = dict(analysis.rule_flags)
        reasons = list(analysis.reasons(category))
        version = RULES_VERSION
    else:
        probabilities, category, flag_probabilities = model.predict(analysis.features(), analysis.rule_category)
        confidence = round(probabilities[category], 2)
        reasons = list(analysis.reasons(category))
        reasons.append(f"model: p({category}) = {probabilities[category]:.2f}")
        flags = {}
        for flag, probability in flag_probabilities.items():
            if probability >= 0.5:
                flags[flag] = analysis.rule_flags.get(flag) or f"model: p = {probability:.2f}"
        if "suspicious_instructions" in analysis.rule_flags:
            flags["suspicious_instructions"] = analysis.rule_flags["suspicious_instructions"]
        version = f"{RULES_VERSION}+model-{model.version}"
    reasons = reasons[: _MAX_EVIDENCE - min(len(flags), 3)]
    reasons += [f"{flag}: {why}" for flag, why in flags.items()]
    return Classification(
        category=category,
        risk=RISK[category],
        flags=tuple(flag for flag in FLAGS if flag in flags),
        confidence=max(0.01, min(confidence, 0.99)),
        evidence=tuple(reasons[:_MAX_EVIDENCE + 2]),
        version=version,
    )
