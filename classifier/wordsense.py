"""What the hand-written verb lists do not say, learned when the model is trained.

Two sources, both read only by `mcp-risk train`, whose result ships inside the model file (so
classifying needs nothing new):

- WordNet (Princeton's lexical database, from Debian's `wordnet-base` and `wordnet-sense-index`,
  read with nltk): the lemma of an inflected verb (`wrote` -> write) and, for a verb the lists do
  not name, the nearest verb they do name among its senses' hypernyms (`expunge` is a kind of
  `delete`, `reimburse` of `refund`). A verb WordNet knows whose senses lead to no listed verb is
  still an action: it is never assumed to be a read.
- Word vectors learned from the 24,071 unlabelled snapshot tools (co-occurrence within a tool's
  name and the opening of its description, PPMI, truncated SVD): each word's cluster (a model
  feature, so a word never seen in training lands near the words it behaves like). (Guessing a
  verb's category from its vector alone was tried: the words in the verb position that WordNet
  does not know are mostly product and namespace names, `github_`, `hubspot_`, not verbs.)

Everything here is deterministic for the same inputs.
"""

import gzip
import json
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from .features import name_tokens, words
from .lexicon import HAND_VERBS
from .taxonomy import SEVERITY

WORDNET_DIRS = ("/usr/share/wordnet",)
_WORDNET_FILES = ("data.adj", "data.adv", "data.noun", "data.verb", "index.adj", "index.adv", "index.noun",
                  "index.verb", "index.sense", "cntlist.rev", "adj.exc", "adv.exc", "noun.exc", "verb.exc")
# nltk's reader wants WordNet's `lexnames` file, which Debian does not ship: the 45 lexicographer
# file names of WordNet 3.0, in their fixed order (wninput(5WN)).
_LEXNAMES = """adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body
    noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive
    noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation
    noun.shape noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication
    verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception
    verb.possession verb.social verb.stative verb.weather adj.ppl""".split()
# Verbs of knowing, perceiving and being change nothing; every other kind of verb may.
_READING_LEXNAMES = frozenset(("verb.cognition", "verb.perception", "verb.stative"))
_PREFIXES = ("re", "un", "de", "pre", "auto", "bulk", "batch")
HYPERNYM_DEPTH = 3
SENSES = 1  # a verb's most frequent sense decides (the rarer ones are where `repair` pays)
# The WordNet verbs a hypernym path may end at, each with its category: specific enough that a
# verb filed under them does the same kind of thing. The generic roots (change, make, move, go,
# act, get, give, take, put, set) say nothing of what a tool does and are not among them.
ANCHORS = {}
for _category, _verbs in (
    ("destructive", "delete erase remove destroy kill eliminate wipe purge abolish annul cancel revoke terminate "
                    "obliterate demolish expunge discard scrap"),
    ("financial", "pay buy purchase sell refund reimburse spend invest trade invoice donate lend borrow"),
    ("execute", "run execute deploy launch operate install compile"),
    ("write", "create write add insert modify alter edit record register publish post send transmit assign attach "
              "connect rename save store upload copy mark label tag enroll subscribe approve reject lock unlock "
              "enable disable restore schedule book reserve share invite merge"),
    ("read", "read examine inspect analyze analyse compute calculate search seek find detect measure verify check "
             "compare estimate evaluate assess view see look watch monitor test diagnose predict count"),
):
    for _verb in _verbs.split():
        ANCHORS[_verb] = _category

CLUSTERS = 256
DIMENSIONS = 48
MIN_WORD_COUNT = 3
CONTEXT_WORDS = 4000
DESCRIPTION_WORDS = 12


# Words WordNet files as verbs that name no action of a tool: modals and auxiliaries.
_NOT_ACTIONS = frozenset("can will may must shall should would could might need have has had does did been being "
                         "get".split())


class WordNetMissing(RuntimeError):
    """Training needs WordNet; the message says how to install it."""


def _wordnet_dir():
    override = os.environ.get("MCP_RISK_WORDNET")
    for candidate in ([override] if override else []) + list(WORDNET_DIRS):
        if candidate and all((Path(candidate) / name).exists() for name in ("index.verb", "data.verb", "index.sense")):
            return Path(candidate)
    raise WordNetMissing(
        "training needs WordNet 3.0: install Debian's wordnet-base and wordnet-sense-index "
        "(apt-get install wordnet-base wordnet-sense-index), or set MCP_RISK_WORDNET to a directory "
        "holding WordNet's dict files")


def open_wordnet():
    """nltk's WordNet reader over the distribution's WordNet files.

    nltk reads corpora only from its data path, laid out as corpora/wordnet/; the files are copied
    into such a layout in a temporary directory (removed when the process ends)."""
    import atexit

    try:
        import nltk.data
    except ImportError:
        raise WordNetMissing("training needs nltk, in the train extra: pip install -e '.[train]' "
                             "or run `make setup`") from None

    source = _wordnet_dir()
    root = Path(tempfile.mkdtemp(prefix="mcp-risk-wordnet-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    corpus = root / "corpora" / "wordnet"
    corpus.mkdir(parents=True)
    for name in _WORDNET_FILES:
        if (source / name).exists():
            shutil.copyfile(source / name, corpus / name)
    pos = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}
    (corpus / "lexnames").write_text("".join(f"{i:02d}\t{n}\t{pos[n.split('.')[0]]}\n" for i, n in enumerate(_LEXNAMES)))
    nltk.data.path.insert(0, str(root))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": not needed
        from nltk.corpus import wordnet

        wordnet.ensure_loaded()
    return wordnet


# -- the vocabulary: which words open tool names and descriptions ---------------------------------
def read_texts(snapshot):
    """(name tokens, opening description words) of every tool in the snapshot file."""
    texts = []
    with gzip.open(snapshot, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            name = row.get("tool") if isinstance(row.get("tool"), str) else ""
            description = row.get("description") if isinstance(row.get("description"), str) else ""
            texts.append((name_tokens(name), words(description)[:DESCRIPTION_WORDS]))
    return texts


# -- WordNet --------------------------------------------------------------------------------------
def _category_of_synset(synset, depth=HYPERNYM_DEPTH):
    """(category, the listed verb reached) by the synset's own lemmas, then its hypernyms."""
    frontier, seen = [synset], set()
    for _ in range(depth + 1):
        following = []
        for node in frontier:
            if node in seen:
                continue
            seen.add(node)
            for lemma in node.lemma_names():
                hit = ANCHORS.get(lemma.lower())
                if hit is not None:
                    return hit, lemma.lower()
            following.extend(node.hypernyms())
        frontier = following
    return None


def wordnet_verb(wordnet, word):
    """What WordNet says of `word` as a verb: (category, lemma, how, the WordNet verb read) or None
    when it is no verb.

    `how` is `lemma` (an inflection of a listed verb), `kind of X` (a hypernym path reaches the
    listed verb X: the most severe category among the most frequent senses wins, as the taxonomy
    says when readings compete) or the kind of verb WordNet files it under."""
    lemma = wordnet.morphy(word, "v")
    if lemma is None:
        for prefix in _PREFIXES:  # `resend`, `unpause`: a prefix on a listed verb
            stem = word[len(prefix):]
            if word.startswith(prefix) and len(stem) >= 4:
                stem = stem if stem in HAND_VERBS else wordnet.morphy(stem, "v")
                if stem in HAND_VERBS:
                    return HAND_VERBS[stem][0], word, f"`{prefix}` + `{stem}`", stem
        return None
    if lemma in HAND_VERBS:
        return HAND_VERBS[lemma][0], lemma, "lemma", lemma
    senses = wordnet.synsets(lemma, "v")[:SENSES]
    if not senses:
        return None
    best = None
    for synset in senses:
        found = _category_of_synset(synset)
        if found is not None and (best is None or SEVERITY[found[0]] > SEVERITY[best[0]]):
            best = found
    if best is not None:
        return best[0], lemma, f"kind of `{best[1]}`", lemma
    kinds = [synset.lexname() for synset in senses]
    category = "read" if any(kind in _READING_LEXNAMES for kind in kinds) else "write"
    return category, lemma, kinds[0].replace("verb.", "") + " verb", lemma


def _verb_standing(wordnet, word):
    """How much of a verb `word` is: None when it is mostly a noun (`file`, `page`, `chart`: more
    noun uses than verb uses in WordNet's sense-tagged counts, or more noun senses when neither was
    counted), "strong" when it is (nearly) only a verb (`expunge`, `debug`), else "weak"."""
    nouns = wordnet.synsets(word, "n")
    verbs = wordnet.synsets(word, "v")
    if not verbs:
        return None
    noun_count = sum(l.count() for s in nouns for l in s.lemmas() if l.name().lower() == word)
    verb_count = sum(l.count() for s in verbs for l in s.lemmas() if l.name().lower() == word)
    if noun_count > verb_count or (noun_count == verb_count == 0 and len(nouns) > len(verbs)):
        return None
    return "strong" if not nouns or verb_count > 3 * noun_count else "weak"


# -- word vectors ---------------------------------------------------------------------------------
def word_vectors(texts):
    """{word: unit vector} from co-occurrence within each tool's name and description opening."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from sklearn.decomposition import TruncatedSVD

    counts = Counter(w for name, opening in texts for w in set(name) | set(opening))
    vocabulary = sorted(w for w, n in counts.items() if n >= MIN_WORD_COUNT and len(w) > 1 and not w.isdigit())
    index = {w: i for i, w in enumerate(vocabulary)}
    contexts = sorted(vocabulary, key=lambda w: (-counts[w], w))[:CONTEXT_WORDS]
    columns = np.array([index[w] for w in contexts])
    # tools x words, 1 where the word occurs in the tool's name or description opening
    rows, cols = [], []
    for number, (name, opening) in enumerate(texts):
        for w in set(name) | set(opening):
            if w in index:
                rows.append(number)
                cols.append(index[w])
    incidence = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(vocabulary))).tocsc()
    matrix = (incidence.T @ incidence[:, columns]).tocsr()  # co-occurrence of each word with each context word
    matrix = matrix - coo_matrix((np.array([matrix[i, j] for j, i in enumerate(columns)]), (columns, np.arange(len(columns)))),
                                 shape=matrix.shape).tocsr()  # a word is not its own context
    matrix.eliminate_zeros()
    total = matrix.sum()
    row_sums = np.asarray(matrix.sum(axis=1)).ravel()
    col_sums = np.asarray(matrix.sum(axis=0)).ravel() ** 0.75  # context smoothing (Levy & Goldberg)
    col_sums = col_sums / col_sums.sum() * total
    matrix = matrix.tocoo()
    pmi = np.log(matrix.data * total / (row_sums[matrix.row] * col_sums[matrix.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (matrix.row[keep], matrix.col[keep])), shape=matrix.shape).tocsr()
    svd = TruncatedSVD(n_components=DIMENSIONS, algorithm="arpack", random_state=0)
    vectors = svd.fit_transform(ppmi)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    # arpack's sign of each component is arbitrary: fix it so that the result is deterministic
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    vectors = vectors * np.where(signs == 0, 1, signs)
    return vocabulary, vectors


def word_clusters(vocabulary, vectors):
    from sklearn.cluster import KMeans

    k = min(CLUSTERS, len(vocabulary))
    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(vectors)
    return {word: str(int(label)) for word, label in zip(vocabulary, labels)}


# -- everything together ----------------------------------------------------------------------------
def learn(snapshot, wordnet=None):
    """The lexicon section of a model file: {"verbs": {word: [category, lemma, how, strong]},
    "clusters": {word: id}}.

    The result depends only on the snapshot, WordNet and this code, so it is kept in mcp-risk's
    cache under a key of all three: a second `train` (or `evaluate`) reads it back."""
    import hashlib

    key = hashlib.sha256()
    key.update(Path(snapshot).read_bytes())
    for module in (Path(__file__), Path(__file__).with_name("lexicon.py")):
        key.update(module.read_bytes())
    key.update((_wordnet_dir() / "index.verb").read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-risk" / f"lexicon-{key.hexdigest()[:16]}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    learned = _learn(snapshot, wordnet)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(learned, sort_keys=True), encoding="utf-8")
        temporary.replace(cache)
    except OSError:
        pass  # a read-only home: learn again next time
    return learned


def _learn(snapshot, wordnet=None):
    wordnet = wordnet or open_wordnet()
    texts = read_texts(snapshot)
    opens_name = Counter()  # a word in the verb position of a name: first, or after a namespace
    follows_verb = Counter()  # a word right after a listed verb: its object (`read_file`: a noun)
    for name, opening in texts:
        if name:
            opens_name[name[0]] += 1
        if len(name) > 1:
            opens_name[name[1]] += 1
        for before, after in zip(name, name[1:]):
            if before in HAND_VERBS:
                follows_verb[after] += 1
    candidates = Counter(w for name, opening in texts for w in name + opening[:3])
    verbs = {}
    for word in sorted(candidates):
        if word in HAND_VERBS or word in _NOT_ACTIONS or len(word) < 3 or not word.isalpha() or candidates[word] < 2:
            continue
        found = wordnet_verb(wordnet, word)
        if found is None:
            continue
        category, lemma, how, base = found
        if _verb_standing(wordnet, base) is None:
            continue  # mostly a noun: `file_upload` names a file, `page_list` pages
        if how != "lemma" and (opens_name[word] < 1 or follows_verb[word] > opens_name[word]):
            continue  # never seen opening a tool name, or mostly the object of a listed verb there
        if how != "lemma" and word != lemma and not how.startswith("`"):
            continue  # in a name, an inflected form is a noun or an adjective: `files`, `driving_`
        # A learned verb is weak: it decides only where no listed verb follows (`confirm_delete_x`
        # deletes).
        strong = HAND_VERBS[lemma][1] if how == "lemma" else False
        verbs[word] = [category, lemma, how, bool(strong)]
    vocabulary, vectors = word_vectors(texts)
    clusters = word_clusters(vocabulary, vectors)
    return {"verbs": verbs, "clusters": clusters}
