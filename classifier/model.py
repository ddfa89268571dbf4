"""The trained model: a linear model over the tool's facts and the rules' evidence.

It is stored as plain JSON (vocabulary and weights), so loading it executes nothing: a catalogue
must never run a file it downloaded. Inference needs only the standard library; training
(`classifier.training`) is where scikit-learn lives.
"""

import json
import os
from math import exp
from pathlib import Path

from .lexicon import CLUSTERS
from .rules import DECISIVE, HINT
from .taxonomy import CATEGORIES, SEVERITY

FORMAT = "mcp-risk-linear/1"
LEARNED_FLAGS = ("open_world", "sends_data_out", "touches_secrets", "filesystem", "private_data", "untrusted_content")
_DESCRIPTION_WORDS = 60  # the first words of a description say what the tool does
_CLUSTERED_WORDS = 12  # the opening words of a description, read as word clusters too
_PROPERTIES = 40
_ENUM_VALUES = 20


def default_path():
    """data/model/classifier.json beside the code, or $MCP_RISK_MODEL."""
    override = os.environ.get("MCP_RISK_MODEL")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "data" / "model" / "classifier.json"


def feature_groups(facts, found, rule_category, rule_flags, primary, context_features=()):
    """The features of one tool as (prefix, keys) groups; a feature is `prefix + key`, present or absent.

    Training reads them as strings (`model_features`); inference looks each key up in the table of
    its prefix (`LinearModel.analysis_scores`), which spares building a hundred strings per tool.
    Both come from this one function, so the two can never drift apart. The last group holds whole
    feature names (prefix ""): the rules' verdict, evidence and flags.
    """
    tokens = facts.tokens
    groups = [("n:", tokens)]
    words = facts.word_list
    if CLUSTERS:  # the word vectors' clusters: a word never seen in training still weighs like its kin
        groups.append(("nc:", [CLUSTERS[t] for t in tokens if t in CLUSTERS]))
        if words:
            groups.append(("dc:", [CLUSTERS[w] for w in words[:_CLUSTERED_WORDS] if w in CLUSTERS]))
    # The action with what it acts on: `create` + `vm` is not `create` + `note`.
    verb = primary.word if primary is not None else facts.opening[0] if facts.opening else None
    if verb is not None and len(tokens) > 1:
        objects = [t for t in tokens[:8] if t != verb and not t.isdigit()]
        groups.append(("vo:", [f"{verb}|{t}" for t in objects]))
        if CLUSTERS:
            groups.append(("vk:", [f"{verb}|{CLUSTERS[t]}" for t in objects if t in CLUSTERS]))
    if words:
        groups.append(("d:", facts.words if len(words) <= _DESCRIPTION_WORDS else words[:_DESCRIPTION_WORDS]))
    if facts.properties:
        properties = facts.properties[:_PROPERTIES]
        groups.append(("p:", [prop.lower for prop in properties]))
        enums = [value.lower() for prop in properties if prop.enum for value in prop.enum[:_ENUM_VALUES]]
        if enums:
            groups.append(("pe:", enums))
    if facts.annotations:
        groups.append(("a:", [f"{key}={value}" for key, value in facts.annotations.items() if isinstance(value, bool)]))
    if context_features:  # how the tool's hints sit among its server's (classifier.context)
        groups.append(("as:", context_features))
    rules = ["rw:" + (rule_category or "none")]
    if not words:
        rules.append("nodesc")
    for evidence in found:
        rules.append(_EVIDENCE_FEATURES[evidence[0], evidence[1] >= DECISIVE] if evidence[1] >= HINT
                     else _GUESS_FEATURES[evidence[0]])
    for flag in rule_flags:
        rules.append("f:" + flag)
    groups.append(("", rules))
    return groups


PREFIXES = ("n:", "nc:", "dc:", "vo:", "vk:", "d:", "p:", "pe:", "a:", "as:", "")
_EVIDENCE_FEATURES = {(category, decisive): f"r:{category}:{'hi' if decisive else 'lo'}"
                      for category in CATEGORIES for decisive in (True, False)}
_GUESS_FEATURES = {category: f"g:{category}" for category in CATEGORIES}


def model_features(facts, found, rule_category, rule_flags, primary, context_features=()):
    """The features of one tool as strings (what training reads)."""
    return [prefix + key for prefix, keys in feature_groups(facts, found, rule_category, rule_flags, primary,
                                                             context_features) for key in keys]


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
        self.override = float(document.get("override", 0.0))  # 0: firm rules are not kept (older files)
        self.weights = {feature: tuple(row) for feature, row in document["weights"].items()}
        # What training learned of words (classifier.wordsense): verbs and word clusters.
        self.lexicon = document.get("lexicon") or {}
        width = len(self.classes) + len(self.flags)
        if len(self.intercept) != width or any(len(row) != width for row in self.weights.values()):
            raise ValueError("model weights have the wrong width")
        # The same weights by prefix ("d:", "n:", ...), then key: see `feature_groups`.
        self.tables = {}
        for feature, row in self.weights.items():
            colon = feature.find(":") + 1
            if colon:
                self.tables.setdefault(feature[:colon], {})[feature[colon:]] = row
        self.tables[""] = self.weights
        self._pack(document.get("decimals", 6))
        # Most severe first: the first category whose probability passes its threshold wins.
        self._by_severity = sorted(range(len(self.classes)), key=lambda i: -SEVERITY[self.classes[i]])
        self._thresholds_by_severity = [(self.classes[i], self.thresholds.get(self.classes[i], 1.01))
                                        for i in self._by_severity]

    def _pack(self, decimals):
        """Each weight row as one integer, for `analysis_scores`.

        Weights are stored rounded to `decimals` places, so in units of 10**-decimals they are whole
        numbers. Each row packs them, offset to be positive, into fixed-width fields of one Python
        integer; adding the rows of a tool's features is then a single `sum` of integers, exact and
        independent of the order of the features, and the fields are read back with shifts."""
        self._scale = scale = 10 ** int(decimals)
        rows = [self.intercept, *self.weights.values()]
        largest = max((abs(round(w * scale)) for row in rows for w in row), default=0)
        self._offset = offset = 1 << largest.bit_length()
        self._field = field = offset.bit_length() + 12  # room for 4096 rows of one tool
        self._mask = (1 << field) - 1
        self._shifts = tuple(field * i for i in range(len(self.intercept)))

        def pack(row):
            return sum((round(w * scale) + offset) << shift for w, shift in zip(row, self._shifts))

        self._packed_intercept = pack(self.intercept)
        self._get = {prefix: {key: pack(row) for key, row in table.items()}.get for prefix, table in self.tables.items()}

    @classmethod
    def load(cls, path=None):
        path = path or default_path()
        try:
            with open(path, encoding="utf-8") as handle:
                return cls(json.load(handle))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"{path}: not a usable classifier model ({error}); rebuild it with `mcp-risk train`") from None

    def raw_scores(self, features):
        """Scores for features given as strings (each counted once, as in training)."""
        get = self.weights.get
        rows = [row for row in map(get, set(features)) if row is not None]
        rows.append(self.intercept)
        # zip(*rows) transposes in C: one sum per output instead of a Python loop per weight.
        return [sum(column) for column in zip(*rows)]

    def group_scores(self, groups):
        """Scores for features given as `feature_groups`: the same sums as `raw_scores`, faster."""
        rows = [self.intercept]
        extend = rows.extend
        tables = self.tables
        for prefix, keys in groups:
            table = tables.get(prefix)
            if table is not None:
                # each feature counts once, as in training (a frozenset is unique already)
                extend(filter(None, map(table.get, keys if len(keys) < 2 or type(keys) is frozenset
                                        else set(keys))))
        return list(map(sum, zip(*rows)))

    def analysis_scores(self, groups):
        """`group_scores(groups)` with every weight row packed into one integer: the classify path.

        tests/test_classifier_rules.py checks that the two agree on every labelled tool."""
        rows = [self._packed_intercept]
        extend = rows.extend
        get = self._get
        for prefix, keys in groups:
            lookup = get.get(prefix)
            if lookup is not None and keys:
                # each feature counts once, as in training (a frozenset is unique already)
                extend(filter(None, map(lookup, keys if len(keys) < 2 or type(keys) is frozenset else set(keys))))
        if len(rows) >= 4096:  # the fields have room for 4096 rows: a freak tool takes the plain way
            return self.group_scores(groups)
        total = sum(rows)
        base = len(rows) * self._offset
        mask = self._mask
        scale = self._scale
        return [(((total >> shift) & mask) - base) / scale for shift in self._shifts]

    def predict(self, features, rule_category=None):
        """(probabilities by category, the chosen category, flag probabilities).

        The chosen category is the most severe whose probability passes its threshold, else the
        likeliest; never less severe than `rule_category` unless the model is `floor` sure.
        """
        return self.decide(self.raw_scores(features), rule_category)

    def predict_groups(self, groups, rule_category=None):
        """`predict` for features given as `feature_groups`."""
        return self.decide(self.group_scores(groups), rule_category)

    def decide(self, scores, rule_category=None):
        """`predict` from the raw scores."""
        probabilities, chosen = self.decide_category(scores, rule_category)
        flags = {flag: 1.0 / (1.0 + exp(-max(min(score, 50.0), -50.0)))
                 for flag, score in zip(self.flags, scores[len(self.classes):])}
        return probabilities, chosen, flags

    def decide_category(self, scores, rule_category=None, firm=False):
        """(probabilities by category, the chosen category) from the raw scores: see `predict`.

        Where the rules are `firm` (decisive evidence, no decisive rival) their category stands
        unless the model gives another at least `override`."""
        n = len(self.classes)
        temperature = self.temperature
        scaled = [s / temperature for s in scores[:n]]
        top = max(scaled)
        exps = [exp(s - top) for s in scaled]
        total = sum(exps)
        probabilities = dict(zip(self.classes, [e / total for e in exps]))
        chosen = None
        for category, threshold in self._thresholds_by_severity:
            if probabilities[category] >= threshold:
                chosen = category
                break
        if chosen is None:
            chosen = max(probabilities, key=probabilities.get)
        if firm and rule_category is not None and chosen != rule_category:
            if probabilities[chosen] < self.override:
                chosen = rule_category
        elif (rule_category is not None and SEVERITY[rule_category] > SEVERITY[chosen]
                and probabilities[chosen] < self.floor):
            chosen = rule_category
        return probabilities, chosen
