"""Train and evaluate the model on hand-labelled tools (scikit-learn lives here, and only here).

Two labelled sets (data/labels/README.md): the live-listed tools of real servers, as a user's
own servers look, and 3,500 tools of the bundled snapshot. Both train the model. Every figure is
measured with cross-validation grouped by server, so a server (and any copy of it in the other
set) never sits on both sides of a split. Thresholds and the calibration temperature are fitted
on out-of-fold predictions of the training part only, nested inside the evaluation's own folds.
"""

import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from contextlib import contextmanager

from . import lexicon as _lexicon
from . import rules as _rules
from .analysis import analyse
from .model import FORMAT, LEARNED_FLAGS, LinearModel
from .taxonomy import CATEGORIES, FLAGS, SEVERITY

DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = DATA / "labels" / "tools_labelled.jsonl"
LIVE_LABELS = DATA / "labels" / "live_labelled.jsonl"
SNAPSHOT = DATA / "snapshot" / "tools.jsonl.gz"

SEED = 0
FOLDS = 5
INNER_FOLDS = 3
C_CATEGORY = 3.0
C_FLAG = 1.0
LIVE_WEIGHT = 2.0  # a live-listed tool looks like what users run: it counts double in fitting
MIN_COUNT = 2  # a feature seen once cannot generalise; dropping it keeps the artifact small
DECIMALS = 3  # weights are stored (and evaluated) rounded to this many places
PRUNE = 0.1  # a feature whose every weight is smaller than this is dropped: it changes next to nothing
RECALL_TARGETS = {"destructive": 0.97, "financial": 0.95, "execute": 0.90}
# The model may call a tool less severe than the rules' decisive evidence only when this sure of it:
# a destructive tool called "read" is the costly error.
FLOOR = 0.7
# How much a point of recall below its target costs against a point of macro-F1 when thresholds are tuned.
SHORTFALL_WEIGHT = 0.0
THRESHOLD_GRID = np.round(np.arange(0.05, 0.6, 0.05), 3)
# How sure the model must be to overrule firm rules (decisive, unopposed evidence); 1.01: never.
OVERRIDES = (0.8, 0.9, 0.95, 0.99, 1.01)
POLICYLAYER = {"Read": "read", "Write": "write", "Execute": "execute", "Destructive": "destructive",
               "Financial": "financial"}
CRITICAL = ("destructive", "financial")
# The snapshot labels predate these flags: they are learned from the live labels alone.
SNAPSHOT_FLAGS = ("open_world", "sends_data_out", "touches_secrets", "filesystem", "suspicious_instructions")


@dataclass
class Dataset:
    rows: list  # {"tool": MCP Tool object, "server", "category", "flags", "source", "confidence", ...}
    features: list  # of lists of feature strings
    y: np.ndarray  # category index per row
    flags: np.ndarray  # rows x LEARNED_FLAGS, 0/1
    flag_known: np.ndarray  # rows x LEARNED_FLAGS: whether the row's label says anything of the flag
    groups: np.ndarray  # the server, with copies of a live server under the live server's name
    live: np.ndarray  # bool per row: from the live-listed labels
    weights: np.ndarray
    rule_categories: list
    rule_flags: list
    firm: np.ndarray  # bool per row: the rules' evidence is decisive and unopposed (Analysis.firm)
    guess: np.ndarray  # bool per row: nothing names an action (Analysis.guess): confidence is capped

    def subset(self, index):
        index = np.asarray(index)
        return Dataset([self.rows[i] for i in index], [self.features[i] for i in index], self.y[index],
                       self.flags[index], self.flag_known[index], self.groups[index], self.live[index],
                       self.weights[index], [self.rule_categories[i] for i in index],
                       [self.rule_flags[i] for i in index], self.firm[index], self.guess[index])


def tool_of(row):
    """The MCP Tool object of a labelled row (live rows carry it verbatim)."""
    if "definition" in row:
        return row["definition"]
    return {"name": row["tool"], "description": row.get("description"), "inputSchema": row.get("input_schema"),
            "annotations": row.get("annotations")}


def _read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _snapshot_servers(snapshot=SNAPSHOT):
    """{server: its tool objects} from the bundled snapshot: the context of the snapshot labels."""
    servers = defaultdict(list)
    if Path(snapshot).exists():
        with gzip.open(snapshot, "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                servers[row["server"]].append(tool_of(row))
    return servers


def _copies_of_live_servers(live_rows, snapshot_rows):
    """{snapshot server: live server} for snapshot servers that are a copy of a live-listed one
    (at least two tool names and 60% of their labelled tools shared): held out with it."""
    live_tools = defaultdict(set)
    for row in live_rows:
        live_tools[row["server"]].add(row["tool"])
    snapshot_tools = defaultdict(set)
    for row in snapshot_rows:
        snapshot_tools[row["server"]].add(row["tool"])
    copies = {}
    for server, names in snapshot_tools.items():
        for live, live_names in live_tools.items():
            shared = len(names & live_names)
            if shared >= 2 and shared / len(names) >= 0.6:
                copies[server] = live
    return copies


def load_dataset(labels_path=LABELS, live_path=LIVE_LABELS, snapshot=SNAPSHOT):
    """Both labelled sets as one dataset (either may be None). Each tool is read with its server's
    other tools as context, exactly as `classify` and the catalogue read it."""
    snapshot_rows = _read_jsonl(labels_path) if labels_path else []
    live_rows = _read_jsonl(live_path) if live_path else []
    for row in live_rows:
        row["source_set"] = "live"
    for row in snapshot_rows:
        row["source_set"] = "snapshot"
    copies = _copies_of_live_servers(live_rows, snapshot_rows)
    contexts = {}
    by_server = defaultdict(list)
    for row in live_rows:
        by_server[row["server"]].append(row["definition"])
    for server, tools in by_server.items():
        contexts["live", server] = {"tools": tools}
    if snapshot_rows:
        servers = _snapshot_servers(snapshot)
        for server in {row["server"] for row in snapshot_rows}:
            contexts["snapshot", server] = {"tools": servers.get(server) or []}
    rows = live_rows + snapshot_rows
    features, rule_categories, rule_flags, firm, guess = [], [], [], [], []
    for row in rows:
        analysis = analyse(tool_of(row), contexts[row["source_set"], row["server"]])
        features.append(analysis.features())
        rule_categories.append(analysis.rule_category)
        rule_flags.append(set(analysis.rule_flags))
        firm.append(analysis.firm)
        guess.append(analysis.guess)
    live = np.array([row["source_set"] == "live" for row in rows], dtype=bool)
    y = np.array([CATEGORIES.index(row["category"]) for row in rows], dtype=int)
    flags = np.array([[int(flag in row["flags"]) for flag in LEARNED_FLAGS] for row in rows], dtype=int)
    flags = flags.reshape(len(rows), len(LEARNED_FLAGS))
    known = np.array([[is_live or flag in SNAPSHOT_FLAGS for flag in LEARNED_FLAGS] for is_live in live], dtype=bool)
    known = known.reshape(len(rows), len(LEARNED_FLAGS))
    groups = np.array([row["server"] if row["source_set"] == "live" else copies.get(row["server"], "snapshot:" + row["server"])
                       for row in rows], dtype=object)
    weights = np.where(live, LIVE_WEIGHT, 1.0)
    return Dataset(rows, features, y, flags, known, groups, live, weights, rule_categories, rule_flags,
                   np.array(firm, dtype=bool), np.array(guess, dtype=bool))


@contextmanager
def learned_lexicon(snapshot=SNAPSHOT):
    """Read tools with what WordNet and the snapshot's words teach (classifier.wordsense) while the
    block runs; yields that lexicon (for the model file) and restores the previous one after."""
    from .wordsense import learn

    previous = {"verbs": {w: [c, *_lexicon.LEARNED[w], s] for w, (c, s) in _lexicon.VERBS.items() if w in _lexicon.LEARNED},
                "clusters": dict(_lexicon.CLUSTERS)}
    learned = learn(snapshot)
    _lexicon.use_learned(learned)
    _rules.reset_caches()
    try:
        yield learned
    finally:
        _lexicon.use_learned(previous)
        _rules.reset_caches()


# -- fitting -------------------------------------------------------------------------------------
class Vocabulary:
    def __init__(self, feature_lists):
        counts = {}
        for features in feature_lists:
            for feature in set(features):
                counts[feature] = counts.get(feature, 0) + 1
        self.names = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
        self.index = {f: i for i, f in enumerate(self.names)}

    def matrix(self, feature_lists):
        indptr, indices = [0], []
        for features in feature_lists:
            seen = sorted({self.index[f] for f in features if f in self.index})
            indices.extend(seen)
            indptr.append(len(indices))
        data = np.ones(len(indices))
        return csr_matrix((data, indices, indptr), shape=(len(feature_lists), len(self.names)))


def _fit_linear(X, data):
    # One BLAS thread: these problems are small, and on a busy machine a second thread spinning for a
    # core that is taken makes the solver ten times slower (the results are the same).
    with threadpool_limits(limits=1):
        category = LogisticRegression(C=C_CATEGORY, class_weight="balanced", max_iter=5000, random_state=SEED)
        category.fit(X, data.y, sample_weight=data.weights)
        flag_models = []
        for j in range(data.flags.shape[1]):
            rows = data.flag_known[:, j]
            target = data.flags[rows, j]
            if not rows.any() or target.min() == target.max():  # one class only: a constant
                flag_models.append(("constant", 10.0 if rows.any() and target[0] else -10.0))
                continue
            model = LogisticRegression(C=C_FLAG, max_iter=5000, random_state=SEED)
            model.fit(X[rows], target, sample_weight=data.weights[rows])
            flag_models.append(model)
    return category, flag_models


def _softmax(logits, temperature):
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exps = np.exp(scaled)
    return exps / exps.sum(axis=1, keepdims=True)


def fit_temperature(logits, y, weights=None):
    def nll(t):
        p = _softmax(logits, t)
        return -np.average(np.log(p[np.arange(len(y)), y] + 1e-12), weights=weights)

    return float(minimize_scalar(nll, bounds=(0.2, 10.0), method="bounded").x)


def choose(probabilities, thresholds, rules=None, floor=None, firm=None, override=None):
    """The category per row: the most severe whose probability passes its threshold, else the
    likeliest; where the rules are firm, theirs unless the model gives another at least `override`;
    elsewhere never less severe than the rules' verdict unless the model is at least `floor` sure.
    (The same decision as LinearModel.decide_category, vectorised.)"""
    chosen = probabilities.argmax(axis=1)
    decided = np.zeros(len(chosen), dtype=bool)
    for category in sorted(CATEGORIES, key=lambda c: -SEVERITY[c]):
        if category not in thresholds:
            continue
        k = CATEGORIES.index(category)
        hit = ~decided & (probabilities[:, k] >= thresholds[category])
        chosen[hit] = k
        decided |= hit
    if rules is not None and floor is not None:
        severity = np.array([SEVERITY[c] for c in CATEGORIES])
        confidence = probabilities[np.arange(len(chosen)), chosen]
        lower = severity[chosen] < severity[rules]
        keep_firm = (firm & (chosen != rules) & (confidence < override)) if firm is not None else False
        chosen = np.where(keep_firm | (~(firm if firm is not None else False) & (confidence < floor) & lower),
                          rules, chosen)
    return chosen


def macro_f1(y, pred):
    scores = []
    for k in range(len(CATEGORIES)):
        tp = np.sum((pred == k) & (y == k))
        fp = np.sum((pred == k) & (y != k))
        fn = np.sum((pred != k) & (y == k))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def recall(y, pred, category):
    k = CATEGORIES.index(category)
    return float(np.mean(pred[y == k] == k)) if np.any(y == k) else 1.0


def tune_thresholds(probabilities, y, rules, firm):
    """(thresholds for the severe categories, override): the best macro-F1 less the shortfall
    from the recall targets. Missing a destructive or financial tool costs more than a false alarm,
    so recall is bought with precision, but not at any price."""
    best = None
    for override in OVERRIDES:
        for t_fin in THRESHOLD_GRID:
            for t_des in THRESHOLD_GRID:
                for t_exe in (0.25, 0.35, 0.45, 0.55):
                    thresholds = {"financial": float(t_fin), "destructive": float(t_des), "execute": t_exe}
                    pred = choose(probabilities, thresholds, rules, FLOOR, firm, override)
                    shortfall = sum(max(0.0, target - recall(y, pred, c)) for c, target in RECALL_TARGETS.items())
                    key = round(macro_f1(y, pred) - SHORTFALL_WEIGHT * shortfall, 5)
                    if best is None or key > best[0]:
                        best = (key, thresholds, override)
    return best[1], best[2]


@dataclass
class Fitted:
    """A fitted model exactly as the artifact stores it: weights rounded to `DECIMALS` places,
    features whose every weight is below `PRUNE` dropped, and each flag's cut folded into its
    intercept (a flag is set at logit >= 0, p >= 0.5). `evaluate` measures this very model."""

    vocabulary: Vocabulary
    weights: np.ndarray  # features x (categories + flags)
    intercept: np.ndarray
    temperature: float
    thresholds: dict
    override: float

    def logits(self, feature_lists):
        return np.asarray(self.vocabulary.matrix(feature_lists) @ self.weights) + self.intercept

    def predict(self, feature_lists, rule_categories, firm):
        logits = self.logits(feature_lists)
        n = len(CATEGORIES)
        probabilities = _softmax(logits[:, :n], self.temperature)
        rules = np.array([CATEGORIES.index(c) for c in rule_categories])
        return (choose(probabilities, self.thresholds, rules, FLOOR, np.asarray(firm, dtype=bool), self.override),
                probabilities, logits[:, n:] >= 0)


def _weights(vocabulary, category, flag_models, flag_cuts):
    """(weights, intercept) of fitted scikit-learn models, as stored: rounded, tiny rows dropped."""
    width = len(CATEGORIES) + len(LEARNED_FLAGS)
    matrix = np.zeros((len(vocabulary.names), width))
    intercept = np.zeros(width)
    matrix[:, category.classes_] = category.coef_.T
    intercept[category.classes_] = category.intercept_
    for j, model in enumerate(flag_models):
        column = len(CATEGORIES) + j
        if isinstance(model, tuple):
            intercept[column] = model[1] - flag_cuts[j]
        else:
            matrix[:, column] = model.coef_[0]
            intercept[column] = model.intercept_[0] - flag_cuts[j]
    matrix = np.round(matrix, DECIMALS)
    matrix[np.abs(matrix).max(axis=1) < PRUNE] = 0.0
    return matrix, np.round(intercept, DECIMALS)


def _folds(y, groups, n_splits, seed=SEED):
    n_splits = min(n_splits, len(set(groups)))
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups)


def fit(data):
    """Fit on every row of `data`: weights, then temperature, thresholds and flag cuts from
    out-of-fold predictions of those rows (grouped by server)."""
    n = len(CATEGORIES)
    oof = np.zeros((len(data.y), n))
    flag_oof = np.zeros(data.flags.shape)
    for train, test in _folds(data.y, data.groups, INNER_FOLDS):
        part = data.subset(train)
        vocabulary = Vocabulary(part.features)
        category, flag_models = _fit_linear(vocabulary.matrix(part.features), part)
        weights, intercept = _weights(vocabulary, category, flag_models, [0.0] * len(LEARNED_FLAGS))
        logits = np.asarray(vocabulary.matrix([data.features[i] for i in test]) @ weights) + intercept
        oof[test] = logits[:, :n]
        flag_oof[test] = logits[:, n:]
    temperature = fit_temperature(oof, data.y, data.weights)
    rules = np.array([CATEGORIES.index(c) for c in data.rule_categories])
    # Thresholds are tuned where users meet them: on the live-listed tools when there are enough.
    tune = data.live if data.live.sum() >= 200 else np.ones(len(data.y), dtype=bool)
    thresholds, override = tune_thresholds(_softmax(oof[tune], temperature), data.y[tune], rules[tune], data.firm[tune])
    flag_cuts = []
    for j, flag in enumerate(LEARNED_FLAGS):
        rows = data.flag_known[:, j] & (tune if data.flag_known[tune, j].any() else True)
        by_rules = np.array([flag in data.rule_flags[i] for i in np.flatnonzero(rows)], dtype=bool)
        flag_cuts.append(tune_flag_cut(flag_oof[rows, j], data.flags[rows, j], by_rules) if rows.any() else 0.0)
    vocabulary = Vocabulary(data.features)
    category, flag_models = _fit_linear(vocabulary.matrix(data.features), data)
    weights, intercept = _weights(vocabulary, category, flag_models, flag_cuts)
    return Fitted(vocabulary, weights, intercept, temperature, thresholds, override)


# A flag is set when its logit passes a cut chosen for the best F1 on out-of-fold predictions: the
# rarer flags (a few percent of tools) would otherwise almost never reach p = 0.5. The artifact
# folds the cut into the flag's intercept, so inference still sets a flag at p >= 0.5.
FLAG_CUTS = np.round(np.log(np.arange(0.1, 0.991, 0.05) / (1 - np.arange(0.1, 0.991, 0.05))), 4)


def tune_flag_cut(logits, truth, by_rules=None):
    """The cut with the best F1 of what `classify` gives: the rules' flag, or the model's above the cut."""
    best = None
    for cut in FLAG_CUTS:
        predicted = logits >= cut
        if by_rules is not None:
            predicted = predicted | by_rules
        tp = int(np.sum(predicted & (truth == 1)))
        f1 = 2 * tp / (np.sum(predicted) + np.sum(truth == 1)) if tp else 0.0
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, float(cut))
    return best[1]


# -- the artifact --------------------------------------------------------------------------------
def to_document(fitted, label_paths, lexicon=None):
    """The model as plain JSON: deterministic, so the same labels always give the same bytes."""
    weights = {}
    for name, row in zip(fitted.vocabulary.names, fitted.weights):
        if np.any(row != 0):
            weights[name] = [_number(w) for w in row]
    body = {
        "format": FORMAT,
        "classes": list(CATEGORIES),
        "flags": list(LEARNED_FLAGS),
        "intercept": [_number(w) for w in fitted.intercept],
        "temperature": round(fitted.temperature, 4),
        "thresholds": {c: round(t, 4) for c, t in sorted(fitted.thresholds.items())},
        "floor": FLOOR,
        "override": fitted.override,
        "decimals": DECIMALS,
        "trained_on": [{"labels": Path(p).name, "sha256": _sha256(p)} for p in label_paths if p],
        "weights": weights,
        "lexicon": {"verbs": dict(sorted((lexicon or {}).get("verbs", {}).items())),
                    "clusters": dict(sorted((lexicon or {}).get("clusters", {}).items()))},
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return {"version": digest, **body}


def _number(weight):
    """A weight for the JSON file: an int when whole (`0` rather than `0.0`), else the rounded float."""
    weight = float(weight)
    return int(weight) if weight.is_integer() else weight


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(labels_path=LABELS, output=None, live_path=LIVE_LABELS):
    """Train on every labelled tool and write the artifact. Returns (document, path)."""
    from .model import default_path

    with learned_lexicon() as lexicon:
        data = load_dataset(labels_path, live_path)
        document = to_document(fit(data), [labels_path, live_path], lexicon)
    LinearModel(document)  # loads back, or this raises before anything is written
    path = Path(output) if output else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    temporary.replace(path)
    return document, path


# -- evaluation ----------------------------------------------------------------------------------
def _report(y, pred, mask=None):
    if mask is not None:
        y, pred = y[mask], pred[mask]
    per = {}
    for k, category in enumerate(CATEGORIES):
        tp = int(np.sum((pred == k) & (y == k)))
        predicted, actual = int(np.sum(pred == k)), int(np.sum(y == k))
        per[category] = {"precision": tp / predicted if predicted else 0.0,
                         "recall": tp / actual if actual else 0.0, "support": actual}
    labels = list(range(len(CATEGORIES))) + [-1]
    confusion = [[int(np.sum((y == a) & (pred == b))) for b in labels] for a in range(len(CATEGORIES))]
    critical = np.isin(y, [CATEGORIES.index(c) for c in CRITICAL])
    called_critical = np.isin(pred, [CATEGORIES.index(c) for c in CRITICAL])
    return {"rows": int(len(y)), "macro_f1": macro_f1(y, pred) if len(y) else 0.0,
            "accuracy": float(np.mean(y == pred)) if len(y) else 0.0,
            "per_category": per, "confusion": confusion,
            "critical": {"recall": float(np.mean(called_critical[critical])) if critical.any() else 1.0,
                         "precision": float(np.mean(critical[called_critical])) if called_critical.any() else 1.0,
                         "support": int(critical.sum())}}


def _annotation_category(annotations):
    """What the author's hints claim, where they claim anything about reading or destroying."""
    if not isinstance(annotations, dict):
        return None
    if annotations.get("readOnlyHint") is True:
        return "read"
    if annotations.get("destructiveHint") is True:
        return "destructive"
    if annotations.get("readOnlyHint") is False or annotations.get("destructiveHint") is False:
        return "write"
    return None


PEER_LABELS = DATA / "labels" / "policylayer_catalogue.tsv"


def _project(server):
    """A server's project, however a catalogue spells it: `@agentdeskai/browser-tools-mcp` and
    `AgentDeskAI/browser-tools-mcp`, `awslabs.cloudtrail-mcp-server` and `aws-labs-cloudtrail-mcp-server`."""
    import re

    name = server.lower().rsplit("/", 1)[-1]
    name = re.sub(r"^(?:awslabs|aws-labs)[.-]", "", name)
    return re.sub(r"[^a-z0-9]|mcp|server", "", name)


def policylayer_labels(snapshot=SNAPSHOT, live_rows=(), peer=PEER_LABELS):
    """PolicyLayer's published category per (server, tool): the snapshot rows carry theirs; for the
    live-listed servers, their published catalogue where it lists the same project and tool."""
    import csv

    labels = {}
    if live_rows and Path(peer).exists():
        with open(peer, encoding="utf-8", newline="") as handle:
            published = {(_project(r["server"]), r["tool"]): r["category"] for r in csv.DictReader(handle, delimiter="\t")}
        for row in live_rows:
            category = published.get((_project(row["server"]), row["tool"]))
            if category:
                labels[(row["server"], row["tool"])] = category
    if not Path(snapshot).exists():
        return labels
    with gzip.open(snapshot, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            category = (row.get("labels") or {}).get("policylayer_category")
            if category:
                labels[(row["server"], row["tool"])] = category
    return labels


def _confidence(probabilities, pred, guess=None):
    """The confidence `classify` reports: the chosen category's probability, at most
    GUESS_CONFIDENCE where nothing in the definition names an action."""
    from . import GUESS_CONFIDENCE

    confidence = probabilities[np.arange(len(pred)), pred]
    return np.where(guess, np.minimum(confidence, GUESS_CONFIDENCE), confidence) if guess is not None else confidence


def calibration(probabilities, pred, y, guess=None, bins=10):
    """(expected calibration error, reliability rows) of the confidence in the chosen category."""
    confidence = _confidence(probabilities, pred, guess)
    correct = pred == y
    error, table = 0.0, []
    for low in np.linspace(0, 1, bins, endpoint=False):
        in_bin = (confidence > low) & (confidence <= low + 1 / bins)
        if np.any(in_bin):
            gap = abs(np.mean(correct[in_bin]) - np.mean(confidence[in_bin]))
            error += np.mean(in_bin) * gap
            table.append({"bin": f"{low:.1f}-{low + 1 / bins:.1f}", "tools": int(in_bin.sum()),
                          "confidence": float(np.mean(confidence[in_bin])), "accuracy": float(np.mean(correct[in_bin]))})
    return float(error), table


def _flag_scores(truth, predicted, known, names):
    scores = {}
    for j, flag in enumerate(names):
        rows = known[:, j]
        t, p = truth[rows, j].astype(bool), predicted[rows, j].astype(bool)
        tp, fp, fn = int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))
        scores[flag] = {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
                        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0, "support": int(t.sum())}
    return scores


def _cross_validate(data, evaluated, progress=None, step=0):
    """Out-of-fold predictions for the rows in `evaluated` (a bool mask), folds grouped by server
    among those rows; each fold trains on every row whose server is not in its test part."""
    n = len(data.y)
    pred = np.full(n, -1)
    probabilities = np.zeros((n, len(CATEGORIES)))
    flags = np.zeros((n, len(LEARNED_FLAGS)), dtype=bool)
    index = np.flatnonzero(evaluated)
    for fold, (_, test_part) in enumerate(_folds(data.y[index], data.groups[index], FOLDS)):
        test = index[test_part]
        held_out = set(data.groups[test])
        train = np.array([i for i in range(n) if data.groups[i] not in held_out])
        fitted = fit(data.subset(train))
        fold_pred, fold_probabilities, fold_flags = fitted.predict(
            [data.features[i] for i in test], [data.rule_categories[i] for i in test], data.firm[test])
        pred[test], probabilities[test], flags[test] = fold_pred, fold_probabilities, fold_flags
        if progress:
            progress(step + fold + 1)
    return pred, probabilities, flags


def _final_flags(data, model_flags):
    """The flags `classify` gives: the rules' flags, plus what the model adds (it never drops one)."""
    final = np.zeros((len(data.y), len(FLAGS)), dtype=bool)
    for i, rule_flags in enumerate(data.rule_flags):
        for j, flag in enumerate(FLAGS):
            final[i, j] = flag in rule_flags
    for j, flag in enumerate(LEARNED_FLAGS):
        final[:, FLAGS.index(flag)] |= model_flags[:, j]
    return final


def _set_report(data, mask, pred, probabilities, model_flags, peer=None):
    """Every figure for the rows of `mask`: the model, the rules alone, the authors' annotations and
    PolicyLayer's labels (each where present), calibration, flags and the worst errors."""
    y = data.y[mask]
    rows = [r for r, m in zip(data.rows, mask) if m]
    pred, probabilities = pred[mask], probabilities[mask]
    rules = np.array([CATEGORIES.index(c) for c, m in zip(data.rule_categories, mask) if m])
    annotated = [_annotation_category(tool_of(r).get("annotations")) for r in rows]
    mask_annotated = np.array([a is not None for a in annotated], dtype=bool)
    annotation_pred = np.array([CATEGORIES.index(a) if a else -1 for a in annotated])
    peer = peer or {}
    peer_labels = [peer.get((r["server"], r["tool"])) for r in rows]
    mask_peer = np.array([p is not None for p in peer_labels], dtype=bool)
    peer_pred = np.array([CATEGORIES.index(POLICYLAYER[p]) if p in POLICYLAYER else -1 for p in peer_labels])
    guess = data.guess[mask]
    error, reliability = calibration(probabilities, pred, y, guess)
    final = _final_flags(data, model_flags)[mask]
    truth = np.array([[flag in r["flags"] for flag in FLAGS] for r in rows], dtype=bool).reshape(len(rows), len(FLAGS))
    known = np.array([[r["source_set"] == "live" or flag in SNAPSHOT_FLAGS for flag in FLAGS] for r in rows],
                     dtype=bool).reshape(len(rows), len(FLAGS))
    rule_flags = np.array([[flag in f for flag in FLAGS] for f, m in zip(data.rule_flags, mask) if m],
                          dtype=bool).reshape(len(rows), len(FLAGS))
    confidence = _confidence(probabilities, pred, guess)
    worst = []
    for i in np.argsort(-confidence, kind="stable"):
        if pred[i] != y[i]:
            row = rows[i]
            description = tool_of(row).get("description")
            worst.append({"server": row["server"], "tool": row["tool"], "label": CATEGORIES[y[i]],
                          "predicted": CATEGORIES[pred[i]], "confidence": round(float(confidence[i]), 3),
                          "label_confidence": row.get("confidence"), "rationale": row.get("rationale"),
                          "description": (description if isinstance(description, str) else "")[:160]})
        if len(worst) == 25:
            break
    return {
        "rows": int(mask.sum()), "servers": len({r["server"] for r in rows}),
        "model": _report(y, pred),
        "rules": _report(y, rules),
        "annotations": {"ours": _report(y, pred, mask_annotated),
                        "theirs": _report(y, annotation_pred, mask_annotated)},
        "policylayer": {"ours": _report(y, pred, mask_peer), "theirs": _report(y, peer_pred, mask_peer),
                        "other": int(sum(1 for p in peer_labels if p == "Other"))},
        "unclassified": int(np.sum((pred < 0) | (pred >= len(CATEGORIES)))),
        "calibration_error": error,
        "reliability": reliability,
        "flags": {"model": _flag_scores(truth, final, known, FLAGS), "rules": _flag_scores(truth, rule_flags, known, FLAGS)},
        "worst_errors": worst,
        "predictions": [{"server": r["server"], "tool": r["tool"], "label": r["category"],
                         "predicted": CATEGORIES[p], "confidence": round(float(c), 4), "rules": CATEGORIES[rc]}
                        for r, p, c, rc in zip(rows, pred, confidence, rules)],
    }


def evaluate(labels_path=LABELS, live_path=LIVE_LABELS, snapshot=SNAPSHOT, progress=None):
    """Cross-validated figures, grouped by server. The headline is the live-listed tools (each fold
    holds out whole live servers and trains on the others plus every snapshot label not copied from
    them); then the snapshot labels the same way. Returns a dict; `format_report` prints it."""
    with learned_lexicon(snapshot if Path(snapshot).exists() else SNAPSHOT):
        data = load_dataset(labels_path, live_path, snapshot)
    peer = policylayer_labels(snapshot, [r for r in data.rows if r["source_set"] == "live"])
    result = {"labels": [str(p) for p in (live_path, labels_path) if p], "folds": FOLDS, "sets": {}}
    step = 0
    for name, mask in (("live", data.live), ("snapshot", ~data.live)):
        if mask.sum() < FOLDS * 2:
            continue
        pred, probabilities, flags = _cross_validate(data, mask, progress, step)
        step += FOLDS
        result["sets"][name] = _set_report(data, mask, pred, probabilities, flags, peer)
    headline = result["sets"].get("live") or result["sets"].get("snapshot")
    # The headline's figures at the top level, as before: the notebook and scripts read them there.
    result.update({key: headline[key] for key in headline})
    result["headline"] = "live" if "live" in result["sets"] else "snapshot"
    return result


def format_report(result):
    """The evaluation as text for people."""
    lines = []
    titles = {"live": "Live-listed tools of real servers (the headline: what a user's own servers look like)",
              "snapshot": "Snapshot labels"}
    for name, report in result["sets"].items():
        lines += [f"== {titles[name]}: {report['rows']} tools from {report['servers']} servers, "
                  f"{result['folds']}-fold cross-validation grouped by server", ""]
        _format_set(report, lines)
    return "\n".join(lines)


def _format_set(result, lines):
    def block(title, report, full=True):
        critical = report["critical"]
        lines.append(f"{title}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f}, "
                     f"critical recall {critical['recall']:.3f} precision {critical['precision']:.3f} "
                     f"({report['rows']} tools)")
        if not full:
            return
        lines.append(f"  {'category':<12} {'precision':>9} {'recall':>7} {'support':>8}")
        for category, figures in report["per_category"].items():
            lines.append(f"  {category:<12} {figures['precision']:9.3f} {figures['recall']:7.3f} {figures['support']:8d}")
        header = "".join(f"{c[:5]:>7}" for c in CATEGORIES) + "   none"
        lines.append(f"  confusion (rows: label, columns: predicted)\n  {'':<12}{header}")
        for category, row in zip(CATEGORIES, report["confusion"]):
            lines.append(f"  {category:<12}" + "".join(f"{v:7d}" for v in row))

    block("mcp-risk (rules + model)", result["model"])
    lines.append("")
    block("rules alone", result["rules"], full=False)
    if result["annotations"]["theirs"]["rows"]:
        block("authors' annotations, where present", result["annotations"]["theirs"], full=False)
        block("mcp-risk on the same annotated tools", result["annotations"]["ours"], full=False)
    if result["policylayer"]["theirs"]["rows"]:
        block("PolicyLayer's labels, where present ('Other' counts as none)", result["policylayer"]["theirs"], full=False)
        block("mcp-risk on the same tools", result["policylayer"]["ours"], full=False)
    lines.append("")
    lines.append(f"every tool classified: {result['unclassified'] == 0}; "
                 f"expected calibration error of the confidence: {result['calibration_error']:.3f}")
    lines.append(f"  {'confidence':<10} {'tools':>6} {'mean':>6} {'right':>6}")
    for row in result["reliability"]:
        lines.append(f"  {row['bin']:<10} {row['tools']:6d} {row['confidence']:6.2f} {row['accuracy']:6.2f}")
    lines.append("")
    lines.append(f"  {'flag':<24} {'F1':>6} {'precision':>9} {'recall':>7} {'rules F1':>8} {'support':>8}")
    for flag, scores in result["flags"]["model"].items():
        if scores["support"] or scores["precision"]:
            lines.append(f"  {flag:<24} {scores['f1']:6.3f} {scores['precision']:9.3f} {scores['recall']:7.3f} "
                         f"{result['flags']['rules'][flag]['f1']:8.3f} {scores['support']:8d}")
    lines.append("")
    lines.append("  worst errors (wrong, and sure of it):")
    for error in result["worst_errors"][:10]:
        lines.append(f"    {error['confidence']:.2f} {error['server'][:30]} / {error['tool'][:40]}: "
                     f"{error['label']} called {error['predicted']}")
    lines.append("")
