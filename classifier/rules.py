"""Readable rules that implement the taxonomy, each firing with evidence a person understands.

Every rule returns `Evidence(category, weight, text)`. A weight of 0.75 or more is a decisive signal;
of the decisive categories the most severe wins, as the taxonomy says. Weaker signals decide only
when nothing decisive fired.
"""

import re
from typing import NamedTuple

from .features import Phrase, name_tokens, words
from .lexicon import (
    ACTION_PROPERTIES,
    ASSOCIATION_NOUNS,
    CJK_WORDS,
    CODE_PROPERTIES,
    DESCRIPTION_LEADS,
    HTTP_METHODS,
    MONEY_MOVING_VERBS,
    MONEY_NOUNS,
    NOUN_FOLLOWERS,
    SQL_PROPERTIES,
    STRONG_MONEY_VERBS_FOR_WEAK_NOUNS,
    VERBS,
    WEAK_MONEY_NOUNS,
)
from .taxonomy import SEVERITY, most_severe

DECISIVE = 0.75


class Evidence(NamedTuple):
    category: str
    weight: float
    text: str


class Verb(NamedTuple):
    word: str
    category: str
    position: int


def name_verbs(tokens):
    """The first verb of a name, and the strong verbs after it.

    An ambiguous verb is passed over when the next word shows it is a noun (`run_status`) or a
    strong verb follows (`order_get`, `payment_create`). After a reading verb, a later verb is a
    second action only when joined to it (`get_or_create`, `search_and_replace`); otherwise it
    names what is read (`retrieve_refund`, `get_purchase_order`).
    """
    primary, others = None, []
    joined = False
    for position, token in enumerate(tokens):
        if token in _CONJUNCTIONS:
            joined = True
            continue
        hit = VERBS.get(token)
        if hit is None:
            continue
        category, strong = hit
        if primary is None:
            if not strong:
                following = tokens[position + 1] if position + 1 < len(tokens) else None
                if following in NOUN_FOLLOWERS:
                    continue
                if any(VERBS.get(t, ("", False))[1] for t in tokens[position + 1 :]):
                    continue
            primary = Verb(token, category, position)
        elif strong and (position + 1 == len(tokens) or tokens[position + 1] not in NOUN_FOLLOWERS):
            if primary.category != "read" or joined or not VERBS[primary.word][1]:
                others.append(Verb(token, category, position))
    return primary, others


_CONJUNCTIONS = frozenset(("and", "or", "then"))


def _verb_of_word(word):
    """A word of prose as a lexicon verb: `deletes` -> delete, `revoking` -> revoke."""
    if word in VERBS:
        return word, VERBS[word][0]
    candidates = []
    if word.endswith("s"):
        candidates += [word[:-1], word[:-2]]
    if word.endswith("ing") and len(word) > 5:
        stem = word[:-3]
        candidates += [stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else None]
    if word.endswith("ed") and len(word) > 4:
        candidates += [word[:-1], word[:-2]]
    for candidate in candidates:
        if candidate and candidate in VERBS:
            return candidate, VERBS[candidate][0]
    return None


_LEADS = re.compile(
    "(?:" + "|".join(re.escape(lead) for lead in sorted(DESCRIPTION_LEADS, key=len, reverse=True)) + r")[\s,:]*"
)


def description_verb(description):
    """The verb a description opens with, after stock openings such as "This tool allows you to"."""
    text = description[:160].lstrip(" \t\r\n#*>-[(\"'`")
    for _ in range(2):
        lead = _LEADS.match(text)
        if lead is None:
            break
        text = text[lead.end():]
    head = words(text[:40])
    return _verb_of_word(head[0]) if head else None


# Negations close before a destructive word ("does not delete", "without removing").
_NEGATED = re.compile(r"(?:\b(?:not|never|no|without|nothing|non)\b|n't)[\w\s-]{0,20}$")


def _unnegated(phrase, text, text_words):
    for match in phrase.finditer(text, text_words):
        if not _NEGATED.search(text[max(0, match.start() - 30) : match.start()]):
            return match
    return None


_DESTRUCTIVE_PHRASE = Phrase(
    r"permanently (?:delete|remove|destroy|erase|purge)\w*|irreversibl\w+|cannot be undone|"
    r"can't be undone|can not be undone|unrecoverabl\w+|not be recover\w+|"
    r"(?:data|content|contents|changes) (?:will be |is |are )?lost",
    "permanently irreversible irreversibly undone unrecoverable recover recovered recoverable recovery lost",
)
_RECOVERABLE_PHRASE = Phrase(
    r"\bmove[sd]? (?:\w+ ){0,4}to (?:the )?(?:trash|bin|recycle bin)|can be (?:recovered|restored|undone|re-added)|"
    r"\brecoverable\b|\bsoft[- ]delet\w*",
    "trash bin recovered restored undone recoverable soft re",
)
_OVERWRITE_PHRASE = Phrase(
    r"overwrit\w*|replac(?:e|es|ing) (?:the )?(?:entire|existing|whole|complete|full|all)|"
    r"completely replac\w*",
    "overwrite overwrites overwriting overwritten replace replaces replacing replaced",
)
_READ_ONLY_PHRASE = Phrase(
    r"read[- ]only|only (?:select|read)|select (?:queries|statements) only|仅支持select|只读|"
    r"(?:only|just) (?:allows?|supports?|runs?|executes?) (?:select|read)|select quer(?:y|ies)|"
    r"select statements?\b(?! and)",
    "read select readonly",
    marks=("只读", "select"),
)
_WRITE_SQL_PHRASE = Phrase(r"\binsert\b[^.]{0,40}\bupdate\b[^.]{0,40}\bdelete\b", "insert")
_SQL_WORDS = re.compile(r"\bsql\b|\bselect\b|\bstatement|\bcypher\b|\bsparql\b")
_HTTP_REQUEST = Phrase(r"\bhttp (?:get |post |put |patch |delete )?requests?\b|\b(?:api|graphql) requests?\b|"
                       r"\bmake (?:an? )?(?:arbitrary )?requests?\b", "request requests")
_FINANCIAL_PHRASE = Phrase(
    r"transfer (?:funds|money|tokens?|\w+ tokens|crypto|eth|sol|usdc)|"
    r"send (?:funds|money|tokens?|crypto|eth|sol|btc|usdc|payment)|"
    r"place (?:an? )?(?:new )?(?:market |limit |buy |sell )?(?:order|trade|bet)|"
    r"execute (?:an? )?(?:trade|swap|order|payment|transfer)|make (?:an? )?payment|"
    r"process (?:an? )?payment|charge (?:the |a )?(?:customer|card|user)|"
    r"(?:buy|sell|purchase) (?:\w+ )?(?:shares|stocks?|crypto|tokens?|coins?)|"
    r"swap (?:\w+ )?tokens?|withdraw (?:funds|money|tokens?)",
    "transfer send place execute make process charge buy sell purchase swap withdraw",
)

_AMOUNT = frozenset("amount amount_cents amount_in amount_in_cents total_amount amountin value_usd "
                    "lamports amount_wei sats quantity qty".split())
_COUNTERPARTY = frozenset("currency recipient to to_address toaddress destination receiver payee "
                          "iban card card_number wallet wallet_address address beneficiary "
                          "destination_address recipient_address side symbol".split())
_PATH_PROPERTIES = frozenset("path file_path filepath filename file_name file dir directory "
                             "dirpath folder folder_path target_path output_path dest destination "
                             "source_path src dst".split())
_OUTPUT_PATHS = frozenset("output_path output_file output_dir output_directory save_path save_dir "
                          "download_dir download_path destination_path dest_path out outfile "
                          "output_filename target_path save_to".split())
_PRODUCING_VERBS = frozenset("generate convert download export render capture screenshot".split())
# Data a call can lose without loss: clearing a cache or a selection destroys nothing.
_DERIVED_NOUNS = frozenset("cache caches cached selection highlight highlights focus console breakpoint "
                           "breakpoints".split())
# Words that show an ambiguous money verb (`swap`, `trade`, `order`) is about money.
_MONEY_CONTEXT = frozenset("""token tokens coin coins crypto price prices market exchange currency usd fiat
    stock stocks share shares position positions limit spot futures margin asset assets pair payment
    invoice cart checkout purchase sol eth btc usdc usdt wallet defi dex jupiter uniswap raydium""".split())
_BUILT_THINGS = frozenset("app apps package project image workspace target scheme docker container ios "
                          "android solution module".split())
_RUNNING_THINGS = frozenset("process processes query queries execution executions".split())
_TRANSFERRED_THINGS = frozenset("""issue issues repository repo repositories app apps application ownership owner
    project projects file files task tasks cycle ticket tickets conversation chat call domain domains
    document documents folder item items card cards board""".split())
_CONSOLE_NOUNS = frozenset("terminal shell console repl tty".split())
# Verbs that, on a blockchain, sign a transaction that moves value.
_CHAIN_VERBS = frozenset("""create issue send transfer approve claim delegate undelegate stake unstake mint
    bridge tokenize redeem execute place deploy burn wrap unwrap""".split())
_CHAIN_WORDS = frozenset("""blockchain onchain wallet crypto cryptocurrency coin coins nft nfts erc20
    erc721 erc1155 defi validator lamports wei gwei solana ethereum eth sol btc bitcoin usdc usdt
    starknet strk sui egld orai evm multiversx esdt mesdt cosmos aptos polygon matic bnb tron trx
    xrp algorand avax arbitrum token tokens""".split())
# What `create` makes on a chain that costs money (not a wallet or a key pair).
_CHAIN_OBJECTS = frozenset("token tokens nft nfts collection transaction transactions order coin esdt".split())
_CHAIN_PROPERTIES = frozenset("privatekey private_key mnemonic wallet wallet_address to_address toaddress "
                              "receiver recipient recipient_address".split())


# Chain words that mean a blockchain on their own; the rest ("token", "sol", "validator") need company.
_CHAIN_SURE = frozenset("""blockchain onchain crypto cryptocurrency nft nfts erc20 erc721 erc1155 defi lamports
    wei gwei solana ethereum bitcoin usdc usdt starknet strk egld multiversx esdt mesdt evm""".split())


def _on_chain(facts, tokens, names):
    """Money-moving blockchain context: two chain words, a sure one, or one with a wallet-like input."""
    seen = (tokens | facts.words) & _CHAIN_WORDS
    if "smart" in facts.words and "contract" in facts.words:
        return True
    return bool(len(seen) >= 2 or seen & _CHAIN_SURE or (seen and names & _CHAIN_PROPERTIES))


_FILE_NOUNS = frozenset("file files note notes document doc docs sheet content contents".split())

# Which verbs, with which everyday money noun, move money (`place_order`, `send_tokens`).
_WEAK_NOUN_VERBS = {
    "order": STRONG_MONEY_VERBS_FOR_WEAK_NOUNS | {"modify", "update"},
    "plan": frozenset("change update upgrade downgrade".split()),
    "token": frozenset("send transfer mint bridge claim".split()),
    "position": frozenset("open close".split()),
    "transaction": frozenset("send submit execute".split()),
}


def _singular(noun):
    return noun[:-1] if noun.endswith("s") and noun[:-1] in MONEY_NOUNS else noun


def _money_evidence(verb, tokens):
    """Financial evidence from a moving verb with a money noun after it (`create_invoice`)."""
    if verb.word not in MONEY_MOVING_VERBS:
        return None
    for token in tokens[verb.position + 1 :]:
        if token not in MONEY_NOUNS:
            continue
        noun = _singular(token)
        if token in WEAK_MONEY_NOUNS or noun in _WEAK_NOUN_VERBS:
            allowed = _WEAK_NOUN_VERBS.get(noun, STRONG_MONEY_VERBS_FOR_WEAK_NOUNS)
            if verb.word not in allowed:
                continue
        return Evidence("financial", 0.9, f"name `{verb.word}` + `{token}`: moves or commits money")
    return None


def _verb_evidence(verb, tokens, where, weight):
    """Evidence for one verb of a name, with the taxonomy's special cases for it."""
    category = verb.category
    text = f"{where} verb `{verb.word}` → {category}"
    if verb.word == "remove" and ASSOCIATION_NOUNS & set(tokens):
        return Evidence("write", weight, f"{where} `remove` of an association (re-addable) → write")
    if category == "destructive" and _DERIVED_NOUNS & set(tokens[verb.position + 1 :]):
        return Evidence("write", weight, f"{where} `{verb.word}` of derived data (a cache, a selection) → write")
    if verb.word == "transfer":
        # Transfers move money unless the name says what else moves (`transfer_issue`, `transfer_app`).
        if _TRANSFERRED_THINGS & set(tokens):
            return Evidence("write", weight, f"{where} `transfer` of ownership or an item → write")
        return Evidence("financial", weight * 0.8, f"{where} `transfer` with no other object: moves value")
    if category == "financial" and not VERBS[verb.word][1] and not _MONEY_CONTEXT & set(tokens):
        return Evidence("write", weight * 0.8, f"{where} `{verb.word}` with no money in sight → write")
    return Evidence(category, weight, text)


def name_evidence(facts):
    primary, others = name_verbs(facts.tokens)
    found = []
    if primary is not None:
        found.append(_verb_evidence(primary, facts.tokens, "name", 1.0))
        money = _money_evidence(primary, facts.tokens)
        if money:
            found.append(money)
    for verb in others:
        found.append(_verb_evidence(verb, facts.tokens, "name also has", 0.9))
        money = _money_evidence(verb, facts.tokens)
        if money:
            found.append(money)
    return primary, found


def _weak(primary):
    """A name verb that a description may overrule: none, a vague one, or a write."""
    return primary is None or not VERBS[primary.word][1] or primary.category == "write"


def _listed_actions(text, primary):
    """`Update or delete workbooks`, `Archive (delete) a call`: the most severe action listed."""
    sentence = re.split(r"[.\n]", text, maxsplit=1)[0][:200]
    best = None
    for word in words(sentence):
        verb = _verb_of_word(word)
        if verb and VERBS[verb[0]][1] and verb[1] != "read":
            if best is None or SEVERITY[verb[1]] > SEVERITY[best[1]]:
                best = verb
    if best is None or (primary is not None and SEVERITY[best[1]] <= SEVERITY[primary.category]):
        return []
    word, category = best
    return [Evidence(category, 0.8, f"description lists the action `{word}` → {category}")]


def description_evidence(facts, primary):
    text = facts.description
    found = []
    if not text:
        return found
    verb = description_verb(text)
    weak_name = _weak(primary)
    if verb is not None:
        word, category = verb
        # Decides when the name's verb is missing or vague (`create_build`: "Trigger a new
        # build"); against a clear name verb it only corroborates or weakly disagrees.
        escalates = weak_name and (primary is None or SEVERITY[category] > SEVERITY[primary.category])
        weight = 0.8 if escalates else 0.6
        found.append(Evidence(category, weight, f"description opens with `{word}` → {category}"))
    elif primary is None:
        for cjk, category in CJK_WORDS:
            if cjk in text:
                found.append(Evidence(category, 0.8, f"description says 「{cjk}」 → {category}"))
                break
    if weak_name and not (verb and verb[1] == "read" and VERBS[verb[0]][1]):
        found.extend(_listed_actions(text, primary))
    match = _unnegated(_RECOVERABLE_PHRASE, text, facts.words)
    if match:
        found.append(Evidence("write", 0.9, f"description: \"{match.group(0)}\": recoverable"))
    match = _unnegated(_DESTRUCTIVE_PHRASE, text, facts.words)
    if match:
        found.append(Evidence("destructive", 0.9, f"description: \"{match.group(0)}\""))
    match = _unnegated(_OVERWRITE_PHRASE, text, facts.words)
    if match:
        found.append(Evidence("destructive", 0.85,
                              f"description: \"{match.group(0)}\": old content is lost (overwrite rule)"))
    if primary is None or primary.category != "read":
        match = _FINANCIAL_PHRASE.search(text, facts.words)
        if match:
            found.append(Evidence("financial", 0.85, f"description: \"{match.group(0)}\""))
    if _HTTP_REQUEST.search(text, facts.words) and (
        any(p.name.lower() in ("url", "endpoint", "uri") for p in facts.properties)
        or set(facts.tokens) & {"http", "request", "graphql", "api", "post", "put", "patch"}
    ):
        found.append(Evidence("execute", 0.8, "makes arbitrary HTTP requests to a caller-chosen URL"))
    return found


def schema_evidence(facts, primary):
    found = []
    names = {p.name.lower() for p in facts.properties}
    reading = primary is not None and primary.category == "read"
    for prop in facts.properties:
        lowered = prop.name.lower()
        if prop.enum and lowered in ACTION_PROPERTIES:
            found.extend(_enum_evidence(prop))
        if prop.type not in ("string", "") or prop.depth > 1:
            continue
        if lowered in SQL_PROPERTIES or (
            lowered in ("query", "q", "sql_statement") and _SQL_WORDS.search(prop.description)
        ):
            found.append(Evidence("execute", 0.9, f"accepts free-form SQL in `{prop.name}`"))
        elif lowered in CODE_PROPERTIES and not prop.enum:
            found.append(Evidence("execute", 0.9, f"accepts free-form code or a command in `{prop.name}`"))
    if not reading and names & _AMOUNT and names & _COUNTERPARTY:
        amount = sorted(names & _AMOUNT)[0]
        other = sorted(names & _COUNTERPARTY)[0]
        found.append(Evidence("financial", 0.8, f"takes an `{amount}` with a `{other}`: moves money"))
    for prop in facts.properties:
        if prop.name.lower() == "side" and {"buy", "sell"} <= {v.lower() for v in prop.enum}:
            found.append(Evidence("financial", 0.9, "`side` enum buy/sell: places trades"))
    if primary is not None and primary.word in ("write", "overwrite") and (
        _FILE_NOUNS & set(facts.tokens) or names & _PATH_PROPERTIES
    ):
        found.append(Evidence("destructive", 0.85, "writes a whole file by path: old content is lost (overwrite rule)"))
    tokens = set(facts.tokens)
    if primary is not None and primary.word == "build" and tokens & _BUILT_THINGS:
        found.append(Evidence("execute", 0.85, "builds a project: runs its build scripts and compilers"))
    if primary is not None and primary.word == "stop" and tokens & _RUNNING_THINGS:
        found.append(Evidence("destructive", 0.8, "stops running work (a process, a query): it cannot be resumed"))
    if tokens & _CONSOLE_NOUNS and (primary is None or primary.category == "write"):
        noun = sorted(tokens & _CONSOLE_NOUNS)[0]
        found.append(Evidence("execute", 0.85, f"sends input to a `{noun}`: runs what it is given"))
    if (primary is not None and primary.word in _CHAIN_VERBS and _on_chain(facts, tokens, names)
            and (primary.word not in ("create", "issue") or tokens & _CHAIN_OBJECTS)):
        found.append(Evidence("financial", 0.85, f"`{primary.word}` on a blockchain: signs a transaction that moves value"))
    if primary is not None and primary.word in _PRODUCING_VERBS and names & _OUTPUT_PATHS:
        path = sorted(names & _OUTPUT_PATHS)[0]
        found.append(Evidence("write", 0.8, f"saves its output to a caller-chosen path in `{path}`"))
    if primary is not None and primary.word == "push" and "force" in names:
        found.append(Evidence("destructive", 0.85, "`force` option on a push: can rewrite history"))
    return found


def _enum_evidence(prop):
    values = [v for v in prop.enum if v]
    methods = {v.upper() for v in values if v.upper() in HTTP_METHODS}
    if methods and methods != {"GET"} and len(methods) == len(values):
        return [Evidence("execute", 0.85, f"`{prop.name}` takes HTTP methods {'/'.join(sorted(methods))}: arbitrary requests")]
    best = None
    for value in values:
        tokens = name_tokens(value)
        verb, others = name_verbs(tokens)
        for candidate in ([verb] if verb else []) + others:
            evidence = _verb_evidence(candidate, tokens, "", 0.9)
            if best is None or SEVERITY[evidence.category] > SEVERITY[best[0]]:
                best = (evidence.category, value)
            money = _money_evidence(candidate, tokens)
            if money:
                best = ("financial", value)
    if best is None:
        return []
    category, value = best
    weight = 0.9 if category != "read" else 0.6
    return [Evidence(category, weight, f"`{prop.name}` enum includes `{value}` → {category} (multi-action tool)")]


def annotation_evidence(facts):
    hints = facts.annotations
    found = []
    if hints.get("readOnlyHint") is True:
        found.append(Evidence("read", 0.5, "annotation readOnlyHint=true (author's hint)"))
    elif hints.get("destructiveHint") is True and hints.get("readOnlyHint") is False:
        found.append(Evidence("destructive", 0.5, "annotation destructiveHint=true (author's hint)"))
    elif hints.get("readOnlyHint") is False:
        found.append(Evidence("write", 0.4, "annotation readOnlyHint=false (author's hint)"))
    return found


def restriction_evidence(facts, found):
    """A query tool restricted to reads is read; one restricted to writes is destructive if it can delete."""
    tokens = set(facts.tokens)
    sql_tool = any(e.text.startswith("accepts free-form SQL") for e in found) or "sql" in tokens or "query" in tokens
    if not sql_tool:
        return found, []
    if (tokens & {"read", "select"} and tokens & {"query", "sql"}) or _READ_ONLY_PHRASE.search(facts.description, facts.words):
        kept = [e for e in found if not (e.category == "execute" and "SQL" in e.text)]
        return kept, [Evidence("read", 0.95, "restricted to read-only (SELECT) statements")]
    if _WRITE_SQL_PHRASE.search(facts.description, facts.words) or ("write" in tokens and tokens & {"query", "sql"}):
        kept = [e for e in found if not (e.category == "execute" and "SQL" in e.text)]
        return kept, [Evidence("destructive", 0.9, "runs write statements that can DELETE")]
    return found, []


def category_evidence(facts):
    """(the name's first verb, every piece of category evidence)."""
    primary, found = name_evidence(facts)
    found += description_evidence(facts, primary)
    if any(e.text.endswith(": recoverable") for e in found):
        # "Moves the message to the trash": the verb says delete, the description says undoable.
        found = [e for e in found if not (e.category == "destructive" and "verb" in e.text)]
    found += schema_evidence(facts, primary)
    found += annotation_evidence(facts)
    found, extra = restriction_evidence(facts, found)
    found += extra
    if extra and extra[0].category == "read":
        # A read-only query tool reads even though its verb is "execute" or "run".
        found = [e for e in found if e.category != "execute"]
    return primary, found


def decide(found):
    """(category, score, conflict) from evidence: the most severe decisive category wins."""
    scores = {}
    for evidence in found:
        scores[evidence.category] = max(scores.get(evidence.category, 0.0), evidence.weight)
    if not scores:
        return None, 0.0, 0.0
    decisive = [c for c, s in scores.items() if s >= DECISIVE]
    if decisive:
        category = most_severe(decisive)
    else:
        category = max(scores, key=lambda c: (scores[c], SEVERITY[c]))
    rivals = [s for c, s in scores.items() if c != category]
    return category, scores[category], max(rivals, default=0.0)
