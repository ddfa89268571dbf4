"""Train and evaluate the model on hand-labelled tools (scikit-learn lives here, and only here).

Every figure is measured with cross-validation grouped by server, so a server never sits on both
sides of a split. Thresholds and the calibration temperature are fitted on out-of-fold predictions
of the training part only; `evaluate` nests that inside its own folds, so its figures are honest.
"""

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from .analysis import analyse
from .model import FORMAT, LEARNED_FLAGS, LinearModel
from .taxonomy import CATEGORIES, SEVERITY

DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = DATA / "labels" / "tools_labelled.jsonl"
SNAPSHOT = DATA / "snapshot" / "tools.jsonl.gz"

SEED = 0
FOLDS = 5
INNER_FOLDS = 3
C_CATEGORY = 3.0
C_FLAG = 1.0
MIN_COUNT = 2  # a feature seen once cannot generalise; dropping it keeps the artifact small
DECIMALS = 3  # weights are stored (and evaluated) rounded to this many places
PRUNE = 0.1  # a feature whose every weight is smaller than this is dropped: it changes next to nothing
RECALL_TARGETS = {"destructive": 0.97, "financial": 0.95}
# The model may call a tool less severe than the rules' decisive evidence only when this sure of it:
# a destructive tool called "read" is the costly error.
FLOOR = 0.7
# How much a point of recall below its target costs against a point of macro-F1 when thresholds are tuned.
SHORTFALL_WEIGHT = 1.0
THRESHOLD_GRID = np.round(np.arange(0.05, 0.55, 0.025), 3)
POLICYLAYER = {"Read": "read", "Write": "write", "Execute": "execute", "Destructive": "destructive",
               "Financial": "financial"}


@dataclass
class Dataset:
    rows: list
    features: list  # of lists of feature strings
    y: np.ndarray  # category index per row
    flags: np.ndarray  # rows x LEARNED_FLAGS, 0/1
    groups: np.ndarray
    rule_categories: list
    rule_flags: list


def tool_of(row):
    return {"name": row["tool"], "description": row.get("description"), "inputSchema": row.get("input_schema"),
            "annotations": row.get("annotations")}


def load_dataset(path=LABELS):
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    features, rule_categories, rule_flags = [], [], []
    for row in rows:
        analysis = analyse(tool_of(row), {"name": row["server"]})
        features.append(analysis.features())
        rule_categories.append(analysis.rule_category)
        rule_flags.append(set(analysis.rule_flags))
    y = np.array([CATEGORIES.index(row["category"]) for row in rows])
    flags = np.array([[int(flag in row["flags"]) for flag in LEARNED_FLAGS] for row in rows])
    groups = np.array([row["server"] for row in rows])
    return Dataset(rows, features, y, flags, groups, rule_categories, rule_flags)


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


def _fit_linear(X, y, flags):
    # One BLAS thread: these problems are small, and on a busy machine a second thread spinning for a
    # core that is taken makes the solver ten times slower (the results are the same).
    with threadpool_limits(limits=1):
        return _fit_models(X, y, flags)


def _fit_models(X, y, flags):
    category = LogisticRegression(C=C_CATEGORY, class_weight="balanced", max_iter=5000, random_state=SEED)
    category.fit(X, y)
    flag_models = []
    for j in range(flags.shape[1]):
        target = flags[:, j]
        if target.min() == target.max():  # one class only: a constant
            flag_models.append(("constant", 10.0 if target[0] else -10.0))
            continue
        model = LogisticRegression(C=C_FLAG, max_iter=5000, random_state=SEED)
        model.fit(X, target)
        flag_models.append(model)
    return category, flag_models


def _softmax(logits, temperature):
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exps = np.exp(scaled)
    return exps / exps.sum(axis=1, keepdims=True)


def fit_temperature(logits, y):
    def nll(t):
        p = _softmax(logits, t)
        return -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))

    return float(minimize_scalar(nll, bounds=(0.2, 10.0), method="bounded").x)


def choose(probabilities, thresholds, rules=None, floor=None):
    """The category per row: the most severe whose probability passes its threshold, else the
    likeliest; never less severe than the rules' verdict unless the model is at least `floor` sure.
    (The same decision as LinearModel.predict, vectorised.)"""
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
        unsure = probabilities[np.arange(len(chosen)), chosen] < floor
        lower = severity[chosen] < severity[rules]
        chosen = np.where(unsure & lower, rules, chosen)
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


def tune_thresholds(probabilities, y, rules):
    """Thresholds for the severe categories: the best macro-F1 less the shortfall from the recall
    targets. Missing a destructive or financial tool costs more than a false alarm, so recall is
    bought with precision, but not at any price."""
    best = None
    for t_fin in THRESHOLD_GRID:
        for t_des in THRESHOLD_GRID:
            for t_exe in (0.3, 0.35, 0.4, 0.45, 0.5):
                thresholds = {"financial": float(t_fin), "destructive": float(t_des), "execute": t_exe}
                pred = choose(probabilities, thresholds, rules, FLOOR)
                shortfall = sum(max(0.0, target - recall(y, pred, c)) for c, target in RECALL_TARGETS.items())
                key = round(macro_f1(y, pred) - SHORTFALL_WEIGHT * shortfall, 5)
                if best is None or key > best[0]:
                    best = (key, thresholds)
    return best[1]


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

    def logits(self, feature_lists):
        return np.asarray(self.vocabulary.matrix(feature_lists) @ self.weights) + self.intercept

    def predict(self, feature_lists, rule_categories):
        logits = self.logits(feature_lists)
        n = len(CATEGORIES)
        probabilities = _softmax(logits[:, :n], self.temperature)
        rules = np.array([CATEGORIES.index(c) for c in rule_categories])
        return choose(probabilities, self.thresholds, rules, FLOOR), probabilities, logits[:, n:] >= 0


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
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups)


def fit(data, index=None):
    """Fit on the rows at `index` (all rows by default): weights, then temperature and thresholds
    from out-of-fold predictions of those rows."""
    index = np.arange(len(data.y)) if index is None else np.asarray(index)
    features = [data.features[i] for i in index]
    y, flags, groups = data.y[index], data.flags[index], data.groups[index]
    oof = np.zeros((len(index), len(CATEGORIES)))
    flag_oof = np.zeros(flags.shape)
    for train, test in _folds(y, groups, INNER_FOLDS):
        vocabulary = Vocabulary([features[i] for i in train])
        category, flag_models = _fit_linear(vocabulary.matrix([features[i] for i in train]), y[train], flags[train])
        weights, intercept = _weights(vocabulary, category, flag_models, [0.0] * flags.shape[1])
        logits = np.asarray(vocabulary.matrix([features[i] for i in test]) @ weights) + intercept
        oof[test] = logits[:, : len(CATEGORIES)]
        flag_oof[test] = logits[:, len(CATEGORIES) :]
    temperature = fit_temperature(oof, y)
    rules = np.array([CATEGORIES.index(data.rule_categories[i]) for i in index])
    thresholds = tune_thresholds(_softmax(oof, temperature), y, rules)
    flag_cuts = [tune_flag_cut(flag_oof[:, j], flags[:, j]) for j in range(flags.shape[1])]
    vocabulary = Vocabulary(features)
    category, flag_models = _fit_linear(vocabulary.matrix(features), y, flags)
    weights, intercept = _weights(vocabulary, category, flag_models, flag_cuts)
    return Fitted(vocabulary, weights, intercept, temperature, thresholds)


# A flag is set when its logit passes a cut chosen for the best F1 on out-of-fold predictions: the
# rarer flags (a few percent of tools) would otherwise almost never reach p = 0.5. The artifact
# folds the cut into the flag's intercept, so inference still sets a flag at p >= 0.5.
FLAG_CUTS = np.round(np.log(np.arange(0.1, 0.91, 0.05) / (1 - np.arange(0.1, 0.91, 0.05))), 4)


def tune_flag_cut(logits, truth):
    best = None
    for cut in FLAG_CUTS:
        predicted = logits >= cut
        tp = int(np.sum(predicted & (truth == 1)))
        f1 = 2 * tp / (np.sum(predicted) + np.sum(truth == 1)) if tp else 0.0
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, float(cut))
    return best[1]


# -- the artifact --------------------------------------------------------------------------------
def to_document(fitted, labels_path=LABELS):
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
        "decimals": DECIMALS,
        "trained_on": {"labels": Path(labels_path).name, "sha256": _sha256(labels_path)},
        "weights": weights,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return {"version": digest, **body}


def _number(weight):
    """A weight for the JSON file: an int when whole (`0` rather than `0.0`), else the rounded float."""
    weight = float(weight)
    return int(weight) if weight.is_integer() else weight


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(labels_path=LABELS, output=None):
    """Train on every labelled tool and write the artifact. Returns (document, path)."""
    from .model import default_path

    data = load_dataset(labels_path)
    document = to_document(fit(data), labels_path)
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
    return {"rows": int(len(y)), "macro_f1": macro_f1(y, pred), "accuracy": float(np.mean(y == pred)),
            "per_category": per, "confusion": confusion}


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


def policylayer_labels(snapshot=SNAPSHOT):
    labels = {}
    with gzip.open(snapshot, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            category = (row.get("labels") or {}).get("policylayer_category")
            if category:
                labels[(row["server"], row["tool"])] = category
    return labels


def _expected_calibration_error(probabilities, pred, y, bins=10):
    confidence = probabilities[np.arange(len(pred)), pred]
    correct = pred == y
    error = 0.0
    for low in np.linspace(0, 1, bins, endpoint=False):
        in_bin = (confidence > low) & (confidence <= low + 1 / bins)
        if np.any(in_bin):
            error += np.mean(in_bin) * abs(np.mean(correct[in_bin]) - np.mean(confidence[in_bin]))
    return float(error)


def _flag_scores(truth, predicted):
    scores = {}
    for j, flag in enumerate(LEARNED_FLAGS):
        tp = int(np.sum(truth[:, j] & predicted[:, j]))
        fp = int(np.sum(~truth[:, j] & predicted[:, j]))
        fn = int(np.sum(truth[:, j] & ~predicted[:, j]))
        scores[flag] = {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
                        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0}
    return scores


def evaluate(labels_path=LABELS, snapshot=SNAPSHOT, progress=None):
    """Cross-validated figures for the model, beside the rules alone, the authors' annotations and
    PolicyLayer's labels (each where present). Returns a dict; `format_report` prints it."""
    data = load_dataset(labels_path)
    n = len(data.y)
    pred = np.zeros(n, dtype=int)
    probabilities = np.zeros((n, len(CATEGORIES)))
    model_flags = np.zeros((n, len(LEARNED_FLAGS)), dtype=bool)
    fold_thresholds = []
    for fold, (train_index, test_index) in enumerate(_folds(data.y, data.groups, FOLDS)):
        fitted = fit(data, train_index)
        fold_pred, fold_probabilities, fold_flags = fitted.predict(
            [data.features[i] for i in test_index], [data.rule_categories[i] for i in test_index])
        pred[test_index], probabilities[test_index], model_flags[test_index] = fold_pred, fold_probabilities, fold_flags
        fold_thresholds.append(fitted.thresholds)
        if progress:
            progress(fold + 1)
    rules = np.array([CATEGORIES.index(c) for c in data.rule_categories])
    truth_flags = data.flags.astype(bool)
    rule_flags = np.array([[flag in flags for flag in LEARNED_FLAGS] for flags in data.rule_flags])

    annotated = [(_annotation_category(r.get("annotations"))) for r in data.rows]
    mask_annotated = np.array([a is not None for a in annotated])
    annotation_pred = np.array([CATEGORIES.index(a) if a else -1 for a in annotated])

    peer = policylayer_labels(snapshot) if Path(snapshot).exists() else {}
    peer_labels = [peer.get((r["server"], r["tool"])) for r in data.rows]
    mask_peer = np.array([p is not None for p in peer_labels])
    peer_pred = np.array([CATEGORIES.index(POLICYLAYER[p]) if p in POLICYLAYER else -1 for p in peer_labels])

    worst = []
    confidence = probabilities[np.arange(n), pred]
    for i in np.argsort(-confidence):
        if pred[i] != data.y[i]:
            row = data.rows[i]
            worst.append({"server": row["server"], "tool": row["tool"], "label": CATEGORIES[data.y[i]],
                          "predicted": CATEGORIES[pred[i]], "confidence": round(float(confidence[i]), 3),
                          "rationale": row.get("rationale"), "description": (row.get("description") or "")[:160]})
        if len(worst) == 25:
            break
    return {
        "labels": str(labels_path), "rows": n, "servers": int(len(set(data.groups))), "folds": FOLDS,
        "model": _report(data.y, pred),
        "rules": _report(data.y, rules),
        "annotations": {"ours": _report(data.y, pred, mask_annotated),
                        "theirs": _report(data.y, annotation_pred, mask_annotated)},
        "policylayer": {"ours": _report(data.y, pred, mask_peer), "theirs": _report(data.y, peer_pred, mask_peer),
                        "other": int(sum(1 for p in peer_labels if p == "Other"))},
        "unclassified": int(np.sum((pred < 0) | (pred >= len(CATEGORIES)))),
        "calibration_error": _expected_calibration_error(probabilities, pred, data.y),
        "flags": {"model": _flag_scores(truth_flags, model_flags), "rules": _flag_scores(truth_flags, rule_flags)},
        "thresholds_per_fold": fold_thresholds,
        "worst_errors": worst,
        "predictions": [{"server": r["server"], "tool": r["tool"], "label": r["category"],
                         "predicted": CATEGORIES[p], "confidence": round(float(c), 4), "rules": rc}
                        for r, p, c, rc in zip(data.rows, pred, confidence, data.rule_categories)],
    }


def format_report(result):
    """The evaluation as text for people."""
    lines = [f"{result['rows']} labelled tools from {result['servers']} servers; "
             f"{result['folds']}-fold cross-validation grouped by server", ""]

    def block(title, report):
        lines.append(f"{title}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f} "
                     f"({report['rows']} tools)")
        lines.append(f"  {'category':<12} {'precision':>9} {'recall':>7} {'support':>8}")
        for category, figures in report["per_category"].items():
            lines.append(f"  {category:<12} {figures['precision']:9.3f} {figures['recall']:7.3f} {figures['support']:8d}")
        header = "".join(f"{c[:5]:>7}" for c in CATEGORIES) + "   none"
        lines.append(f"  confusion (rows: label, columns: predicted)\n  {'':<12}{header}")
        for category, row in zip(CATEGORIES, report["confusion"]):
            lines.append(f"  {category:<12}" + "".join(f"{v:7d}" for v in row))
        lines.append("")

    block("mcp-risk (rules + model)", result["model"])
    block("rules alone", result["rules"])
    block("authors' annotations, where present", result["annotations"]["theirs"])
    block("mcp-risk on the same annotated tools", result["annotations"]["ours"])
    block("PolicyLayer's labels, where present ('Other' counts as none)", result["policylayer"]["theirs"])
    block("mcp-risk on the same tools", result["policylayer"]["ours"])
    lines.append(f"every tool classified: {result['unclassified'] == 0}; "
                 f"expected calibration error of the confidence: {result['calibration_error']:.3f}")
    lines.append("")
    lines.append(f"  {'flag':<16} {'model F1':>8} {'rules F1':>8}")
    for flag in LEARNED_FLAGS:
        lines.append(f"  {flag:<16} {result['flags']['model'][flag]['f1']:8.3f} {result['flags']['rules'][flag]['f1']:8.3f}")
    return "\n".join(lines)
