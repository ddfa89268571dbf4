"""The trained model: a linear model over the tool's facts and the rules' evidence.

It is stored as plain JSON (vocabulary and weights), so loading it executes nothing: a catalogue
must never run a file it downloaded. Inference needs only the standard library; training
(`classifier.training`) is where scikit-learn lives.
"""

import json
import math
import os
from pathlib import Path

from .rules import DECISIVE
from .taxonomy import CATEGORIES, SEVERITY

FORMAT = "mcp-risk-linear/1"
LEARNED_FLAGS = ("open_world", "sends_data_out", "touches_secrets", "filesystem")
_DESCRIPTION_WORDS = 60
_DESCRIPTION_BIGRAMS = 25


def default_path():
    """data/model/classifier.json beside the code, or $MCP_RISK_MODEL."""
    override = os.environ.get("MCP_RISK_MODEL")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "data" / "model" / "classifier.json"


def model_features(facts, found, rule_category, rule_flags, primary):
    """The features of one tool: strings, each present or absent.

    The same function serves training and inference, so the two can never drift apart.
    """
    out = []
    add = out.append
    tokens = facts.tokens
    for token in tokens:
        add("n:" + token)
    for left, right in zip(tokens, tokens[1:]):
        add(f"nb:{left}_{right}")
    if tokens:
        add("n0:" + tokens[0])
        add("nl:" + tokens[-1])
    if primary is not None:
        add("nv:" + primary.word)
        add("nvc:" + primary.category)
    text = facts.word_list[:_DESCRIPTION_WORDS]
    if not text:
        add("nodesc")
    for word in text:
        add("d:" + word)
    for left, right in zip(text[:_DESCRIPTION_BIGRAMS], text[1 : _DESCRIPTION_BIGRAMS + 1]):
        add(f"db:{left}_{right}")
    for prop in facts.properties[:40]:
        add("p:" + prop.name.lower())
        for value in prop.enum[:20]:
            add("pe:" + value.lower())
    for key, value in facts.annotations.items():
        if isinstance(value, bool):
            add(f"a:{key}={value}")
    for evidence in found:
        add(f"r:{evidence.category}:{'hi' if evidence.weight >= DECISIVE else 'lo'}")
    add("rw:" + (rule_category or "none"))
    for flag in rule_flags:
        add("f:" + flag)
    return out


class ModelError(ValueError):
    """The model file cannot be used; the message names it and says how to rebuild it."""


class LinearModel:
    """Softmax over category scores plus one logistic output per learned flag."""

    def __init__(self, document):
        if document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model")
        self.version = document["version"]
        self.classes = tuple(document["classes"])
        if set(self.classes) != set(CATEGORIES):
            raise ValueError("model classes do not match the taxonomy")
        self.flags = tuple(document["flags"])
        self.intercept = tuple(document["intercept"])
        self.temperature = float(document["temperature"])
        self.thresholds = {c: float(t) for c, t in document["thresholds"].items()}
        self.floor = float(document.get("floor", 1.0))
        self.weights = {feature: tuple(row) for feature, row in document["weights"].items()}
        width = len(self.classes) + len(self.flags)
        if len(self.intercept) != width or any(len(row) != width for row in self.weights.values()):
            raise ValueError("model weights have the wrong width")
        # Most severe first: the first category whose probability passes its threshold wins.
        self._by_severity = sorted(range(len(self.classes)), key=lambda i: -SEVERITY[self.classes[i]])

    @classmethod
    def load(cls, path=None):
        path = path or default_path()
        try:
            with open(path, encoding="utf-8") as handle:
                return cls(json.load(handle))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"{path}: not a usable classifier model ({error}); rebuild it with `mcp-risk train`") from None

    def raw_scores(self, features):
        get = self.weights.get
        rows = [row for row in map(get, features) if row is not None]
        rows.append(self.intercept)
        # zip(*rows) transposes in C: one sum per output instead of a Python loop per weight.
        return [sum(column) for column in zip(*rows)]

    def predict(self, features, rule_category=None):
        """(probabilities by category, the chosen category, flag probabilities).

        The chosen category is the most severe whose probability passes its threshold, else the
        likeliest; never less severe than `rule_category` unless the model is `floor` sure.
        """
        scores = self.raw_scores(features)
        n = len(self.classes)
        scaled = [s / self.temperature for s in scores[:n]]
        top = max(scaled)
        exps = [math.exp(s - top) for s in scaled]
        total = sum(exps)
        probabilities = {self.classes[i]: exps[i] / total for i in range(n)}
        chosen = None
        for i in self._by_severity:
            category = self.classes[i]
            if probabilities[category] >= self.thresholds.get(category, 1.01):
                chosen = category
                break
        if chosen is None:
            chosen = max(probabilities, key=probabilities.get)
        if (rule_category is not None and SEVERITY[rule_category] > SEVERITY[chosen]
                and probabilities[chosen] < self.floor):
            chosen = rule_category
        flags = {flag: 1.0 / (1.0 + math.exp(-max(min(scores[n + j], 50.0), -50.0))) for j, flag in enumerate(self.flags)}
        return probabilities, chosen, flags
