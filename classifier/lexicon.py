"""Word lists behind the rules: which words name which kind of action.

A verb is "strong" when it is almost never a noun in a tool name, so it counts wherever it stands
(`storage_blob_delete`, `get_or_create_client`); other verbs count only as the tool's first verb
(`run_query` runs, `get_run_status` reads a run).
"""

# verb -> (category, strong): the hand-written lists below
HAND_VERBS = {}


def _add(category, strong, words):
    for word in words.split():
        HAND_VERBS[word] = (category, strong)


_add("read", True, """
    get list search find fetch read retrieve describe lookup inspect summarize summarise
    analyze analyse calculate convert translate screenshot explain validate verify
    preview estimate compare diff parse extract detect recognize recognise classify lint tail
    grep glob locate discover explore scrape crawl transcribe decode encode whois ping resolve
    browse peek show display view download export render think reason recommend suggest
    identify measure autocomplete multiply divide subtract encrypt decrypt scroll wait diagnose
    troubleshoot synthesize""")
_add("read", False, """
    check status info query test generate ask answer monitor watch trace audit review format
    compute count
    plan sample random load open echo health stat stats help capture predict forecast simulate
    match filter sort map build select return provide""")
_add("write", True, """
    create add update edit insert upsert rename upload save append prepend modify change assign
    unassign star unstar restart pause resume unarchive publish unpublish enable disable toggle
    approve reject reopen lock unlock connect disconnect register subscribe unsubscribe follow
    unfollow like unlike reply invite attach detach link unlink import sync configure patch
    increment decrement commit fork clone reorder pin unpin favorite bookmark enroll submit
    memorize remember annotate highlight duplicate restore undelete rollback revert mute unmute
    hide unhide move copy write replace upgrade downgrade fix favourite switch ingest clean
    rebuild reindex refresh migrate revise unregister deregister login logout signin signup
    provision activate deactivate resize adjust rebase mark enqueue dequeue reprocess resync
    rotate ban unban block unblock customize uncomplete unmerge regenerate renew freeze unfreeze""")
_add("write", False, """
    set put post send notify comment label tag start stop close archive merge schedule share
    push draft record log note store cache book reserve request track rate vote complete
    finish accept decline join leave transfer new make init initialize setup tweet message email
    sms end play skip queue use enforce forward launch place claim delegate undelegate mint
    redeem tokenize issue fulfill apply authenticate""")
_add("execute", True, """
    execute exec eval invoke trigger install shell bash spawn interpret click navigate hover
    drag tap swipe goto keypress rerun rerequest retry retrigger replay redeploy rollout""")
_add("execute", False, """
    run evaluate call deploy compile press type fill focus automate dispatch go""")
_add("destructive", True, """
    delete remove purge destroy wipe erase terminate kill cancel revoke uninstall reset clear
    prune flush discard expunge nuke deprovision decommission truncate rm rmdir evict del abort
    overwrite dispose""")
_add("destructive", False, """drop void recycle manage""")
_add("financial", True, """
    pay purchase buy sell refund payout withdraw stake unstake invest donate
    liquidate borrow lend repay""")
_add("financial", False, """trade swap charge order bid tip checkout deposit credit debit""")

# What the rules read: the hand-written verbs, plus what the model file learned from WordNet and
# the snapshot's words (classifier.wordsense) when a model is in use. One dict, updated in place, so
# that every module that imported it sees the same words.
VERBS = dict(HAND_VERBS)
# word -> (lemma, how it was learned): `expunge` -> ("expunge", "kind of `delete`")
LEARNED = {}
# word -> cluster id of its word vector
CLUSTERS = {}


def use_learned(lexicon):
    """Read with the learned lexicon of a model file (None: the hand-written lists alone)."""
    VERBS.clear()
    LEARNED.clear()
    CLUSTERS.clear()
    for word, (category, lemma, how, strong) in ((lexicon or {}).get("verbs") or {}).items():
        if word not in HAND_VERBS:
            VERBS[word] = (category, bool(strong))
            LEARNED[word] = (lemma, how)
    VERBS.update(HAND_VERBS)
    CLUSTERS.update((lexicon or {}).get("clusters") or {})


# Words that make "remove" an undoable association change rather than a loss:
# `remove_tag_from_task`, `remove_member_from_group`.
ASSOCIATION_NOUNS = frozenset("""
    from tag tags label labels reaction reactions star link links relation relations dependency
    dependencies item items track tracks value values rule rules object objects contents
    assignee assignees reviewer reviewers watcher watchers domain domains alias aliases ip ips""".split())
# Members of a team, group or project: removing one is undone by adding them back.
MEMBERSHIP_NOUNS = frozenset("member members collaborator collaborators participant participants attendee "
                             "attendees".split())

# Money words: with a moving verb (create, send, place, ...) they make a call financial.
MONEY_NOUNS = frozenset("""
    payment payments invoice invoices charge charges refund refunds payout payouts order orders
    transfer transfers subscription subscriptions purchase purchases checkout checkouts funds fund money
    coin coins crypto eth sol btc usdc usdt lamports token tokens trade trades swap swaps bet
    wager donation donations gift position positions plan plans transaction transactions
    cash wire sip bond bonds stock stocks share shares erc20 erc721 erc1155 nft nfts airdrop
    liquidity loan loans credit credits fee fees tip tips renewal renewals""".split())

# Verbs that move money when their object is a money noun (`create_invoice`, `send_tokens`).
MONEY_MOVING_VERBS = frozenset("""
    create make place submit send issue process execute initiate confirm capture finalize
    void open close update modify edit change upgrade downgrade renew resume transfer add mint bridge
    request write claim redeem reverse post enable""".split())

# Money recorded, not moved: the nouns of bookkeeping (a ledger, a budget, a personal-finance app).
# Creating or editing these is `write` by the taxonomy; paying, charging or refunding is not.
LEDGER_NOUNS = frozenset("""transaction transactions expense expenses bill bills journal entry entries ledger
    ledgers budget budgets receipt receipts deposit deposits category categories asset assets balance
    balances memo memos estimate estimates quote quotes""".split())

# Money nouns that are also everyday nouns: they only count with a verb that clearly moves money.
WEAK_MONEY_NOUNS = frozenset("order orders plan plans token tokens share shares position positions "
                             "credit credits transaction transactions stock stocks gift renewal renewals".split())
STRONG_MONEY_VERBS_FOR_WEAK_NOUNS = frozenset("place submit send transfer close open execute mint "
                                               "bridge create sign".split())

# The word right after an ambiguous verb that shows it is a noun: `run_status`, `order_details`.
NOUN_FOLLOWERS = frozenset("""
    status info details detail history log logs result results id ids count summary list
    by for of statistics stats metadata data url urls config settings type types counts
    metrics events report reports""".split())

# Input properties whose enum lists the actions of a multi-action tool.
ACTION_PROPERTIES = frozenset("""
    action actions operation operations op method mode command cmd subcommand intent verb
    function task tool method_name action_type operation_type""".split())

HTTP_METHODS = frozenset("GET POST PUT PATCH DELETE HEAD OPTIONS".split())

# Free-form code or command inputs.
CODE_PROPERTIES = frozenset("""
    command commands cmd shell_command script scripts javascript js js_code python python_code
    code_snippet source_code program jscode pycode bash powershell applescript
    function_body snippet""".split())
SQL_PROPERTIES = frozenset("sql sql_query sqlquery statement statements cypher cypher_query "
                           "sparql gremlin raw_sql query_sql".split())

# Leading phrases stripped from a description before reading its first verb.
DESCRIPTION_LEADS = (
    "this tool will", "this tool can", "this tool is used to", "this tool allows you to",
    "this tool lets you", "this tool", "tool to", "tool that", "tool for", "a tool to",
    "a tool that", "use this tool to", "use this to", "use to", "used to", "allows you to",
    "allows the user to", "allows users to", "lets you", "enables you to", "helps you",
    "you can", "this endpoint", "endpoint to", "api to", "function to", "method to",
    "call this to", "please", "quickly", "easily", "directly", "this api", "this function",
    "this method", "this service", "this operation",
)

# Chinese descriptions (about 950 in the snapshot): the action words that decide a category.
CJK_WORDS = (
    ("删除", "destructive"), ("移除", "destructive"), ("清空", "destructive"),
    ("清除", "destructive"), ("销毁", "destructive"), ("取消", "destructive"),
    ("支付", "financial"), ("付款", "financial"), ("转账", "financial"), ("购买", "financial"),
    ("下单", "financial"), ("退款", "financial"),
    ("执行", "execute"), ("运行", "execute"), ("调用", "execute"), ("附加", "execute"),
    ("创建", "write"), ("添加", "write"), ("新增", "write"), ("更新", "write"), ("修改", "write"),
    ("设置", "write"), ("发送", "write"), ("保存", "write"), ("上传", "write"), ("编辑", "write"),
    ("获取", "read"), ("查询", "read"), ("列出", "read"), ("搜索", "read"), ("查看", "read"),
    ("检索", "read"), ("读取", "read"), ("分析", "read"), ("计算", "read"), ("生成", "read"),
)
