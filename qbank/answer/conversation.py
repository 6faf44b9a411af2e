"""Which question a chat message asks, given the conversation so far.

Every user turn is resolved in order, each in the light of the one before:

* a message that asks to be quizzed, how to prepare or for advice on the
  interview, naming no topic the banks answer ("quiz me on ml", "im prepping
  for a google interview", "any tips for my onsite"), is pointed to the
  practice page (``PRACTICE``, ``ADVICE``);
* a message that is only courtesy ("thanks!", "ok cool", "hi") is no turn:
  the last one gets a reply (``courtesy``), an earlier one is skipped, so the
  topic or the list goes on past it;

* a message that names a company and no topic ("what does Uber ask?") asks
  for that company's list of questions, unless it points back at the topic
  so far ("is it asked at Google?", "which companies ask this?"): that is
  answered from the topic's companies;
* after a list, a message that only narrows it ("which of those are hard?",
  "any on deep learning?") narrows the list, one that names nothing ("tell
  me more") keeps it, and an ordinal ("the second one", "#12", "3") picks an
  item; after a pick, a message that only picks
  ("and the third?", "next one") picks again from the same list;
* a message with no topic words of its own ("and its code?"), or one that
  points back ("why does it work at test time?", "does scaling matter
  here?"), continues the previous topic: it is searched together with that
  topic (a pointing word after a new topic the message names is about that
  one: "what about knn, how do i pick k there");
* a message that compares ("how is boosting different?") is searched
  together with the previous topic (so the record comparing both ranks), but
  its own words choose what to show;
* a message that says it changes the topic ("ok, different topic: …", "new
  question: …") is resolved as a first message, from what follows the marker;
* a message refused on its own that names what the banks do not cover (words
  no bank uses, a neighbouring subject, a company: "does netflix sponsor
  visas") is refused as asked, not glued onto the previous topic;
* any other message is searched on its own and is a new topic when that
  search is confident (its best evidence clears the abstention's upper
  floors) and does not land on the previous answer (not in its top three;
  for "what about X?", the previous answer's text does not cover X), or
  when another record leads that search clearly ahead of the previous answer
  ("explain batch norm" after dropout, whose answer mentions batch norm),
  or when the message alone is answered by a full answer whose title names
  every topic word of the message and the previous answer's title does not
  ("and batch norm?" after dropout, "and adam?" after gradient descent);
  else it continues the previous topic.

Decided by what retrieval says, not by how many words a message has.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from index.components.titles import names_title
from index.filters import Filters
from index.query import INTERVIEW_FRAME, AnalyzedQuery
from index.results import SearchResult
from index.search import Searcher
from index.tokenize import tokenize
from ingest.models import Question, QuickRef
from qbank.answer.banks import SHORT_EXAMPLES, BankCatalog

Record = Question | QuickRef
TurnKind = Literal[
    "standalone",
    "followup",
    "comparison",
    "company_list",
    "list_item",
    "courtesy",
    "company_check",
    "practice",
    "list_end",
]
Courtesy = Literal["greeting", "thanks", "ack", "bye", "help"]

MAX_TURNS = 8  # earlier user turns that can shape the last one
RELATED_RANK = 3  # the previous answer this high for a message alone: the message is about it
# A message refused on its own and not about the previous answer reads as a new subject, not a
# follow-up, when adding it to the previous question moves that search away from the previous
# answer (its best chunk's cosine falls by at least STRAY_DRIFT) and it asks about no aspect an
# answer has a heading for (its best cosine to any section heading of the banks at most
# STRAY_HEADING): "whats a good recipe for banana bread" after gradient descent, against "common
# mistakes people make" (a "Common Mistakes" heading).  Measured on the eval sets' dev split
# (scripts/midchat_signals.py; eval/README.md, "Off-topic questions asked mid-chat").
STRAY_DRIFT = 0.17
STRAY_HEADING = 0.32
# ...unless another record leads the message's own search by this much fused score (or the previous
# answer is not among its hits): "explain batch norm" after dropout asks for batch norm, although
# the dropout answer ranks second for it.  Measured on the conversation set's dev split: every
# margin from 0.10 to 0.20 gives the same figures (0.05 loses a follow-up, 0.25 a topic switch).
SWITCH_MARGIN = 0.15
# Words that point back at the answer so far: pronouns, and "here" / "there" ending a clause as
# places in it ("does scaling matter here?", "which models hold up best there"), not "is there a
# ...", "will there be ...", "hey there, ...", "here's my question" or "im new here".
ANAPHORA = re.compile(
    r"\b(?:it|its|it's|that|this|these|those|they|them|their|one|ones|the same|above|previous)\b"
    r"|\b(?<!\bhi )(?<!\bhey )(?<!\bhello )(?<!\bnew )(?:here|there)(?=\s*(?:[?.!,;:)]|$))",
    re.I,
)
PLACE = re.compile(r"\b(?:here|there)\b", re.I)
COMPARISON = re.compile(
    r"\b(differ\w*|different|difference|compare[sd]?|comparison|vs\.?|versus|instead|rather than|better than"
    r"|similar|same as|relate[sd]?|relationship)\b",
    re.I,
)
TWO_SIDED = re.compile(r"\b(vs\.?|versus|between|compared? (?:to|with))\b", re.I)  # names both sides itself
# A message that says it leaves the topic ("ok, different topic: ...", "new question: ..."): what
# follows is resolved as a first message, whatever words it shares with the previous answer.
TOPIC_CHANGE = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|so|alright|right|now|next|also|anyway|thanks?)\b[\s,;:.!-]*)*"
    r"(?:(?:an?|on an?|one more|a totally|a completely)\s+)?"
    r"(?:(?:new|next|different|another|other|unrelated|separate|totally different|completely different)\s+"
    r"(?:topic|question|subject|thing)|(?:changing|switching|change of|switch(?:ing)? the)\s+(?:topics?|subjects?)"
    r"|moving on|on another note)\b[\s,;:.!?-]*",
    re.I,
)
# The interviewer probing the candidate ("what would an interviewer push back on", "which part do
# interviewers dig into"): about the topic so far, whatever other words come with it; not "do
# interviewers care about leetcode".
INTERVIEWER = re.compile(
    r"\binterviewers?\b.*\b(?:ask|expect|want|look|probe|push|dig|follow|test|check|grill|challenge|trip|hear)"
    r"|\b(?:ask|expect|want|look|probe|push|dig|follow|test|check|grill|challenge|trip|hear)\w*\b.*\binterviewers?\b",
    re.I,
)
# "what about X, ...", "how about X, ...", "and for X, ...": a message that may name a new topic first
NAMES_NEW = re.compile(r"^\W*(?:and\s+)?(?:(?:what|how)\s+about|for|in|with)\b", re.I)
# After an item picked from a list, asking for the list again ("back to the list", "show the list").
BACK_TO_LIST = re.compile(
    r"\b(?:back|return)\b.*\blist\b|\b(?:show|see)(?: me)? the (?:whole )?list\b|^\W*(?:go |take me )?back\W*$", re.I
)
# A sound at the start of a message, not a word of it ("hmm not sure i follow", "uh, and its code?"),
# or an acknowledgement before the next question ("ok, k means", "alright xgboost", "cool. what is
# pca"): searched with it, "ok, k means" was refused and "ok, xgboost" answered the LightGBM row
# (tester).  "right", "great", "sure", "fine" and "nice" only with a mark after them: "right skewed
# data" is a question about skew; a hyphen joining a word is no mark ("fine-tuning bert": review).
INTERJECTION = re.compile(
    r"^\W*(?:(?:h+m+|u+m+|u+h+|a+h+|o+h+|ok(?:ay)?|alright|gotcha|got it|thanks|thank you|thx|yeah|yep)"
    r"\b(?:[\s,.!?;:]|-(?!\w))*|(?:right|great|cool|sure|fine|nice)(?:[,.!?;:]|-(?!\w))+\s*)+",
    re.I,
)
# "then" ending a clause: "in that case" ("how should i split then"): about the topic so far, unless
# the message alone clearly answers with another ("what is batch norm then?")
THEN = re.compile(r"\b(?<!\band )(?<!\bbut )then\W*$", re.I)
# "what about for time series?", "and for regression?": the topic so far, applied to what follows
# ("what about time series?" is a new topic).
APPLIED_TO = re.compile(r"^\W*(?:and\s+(?:what\s+about\s+)?|(?:what|how)\s+about\s+)for\b", re.I)
CONTINUING = re.compile(r"^\W*(and|also|but|what about|how about|and what about|for|in|with)\b", re.I)
# Words that ask for a form of the previous answer, or fill a chat, not a topic.
FORM_WORDS = frozenset(
    tokenize(
        "ok okay hmm cool great nice thanks alright right well yeah yes sure now next new topic so then"
        " code snippet implementation implement example python sklearn pytorch show more detail details again"
        " explain elaborate simpler simple simply eli5 summary summarize short shorter quick tldr why how work works"
        " used use when where pros cons advantage advantages disadvantage disadvantages downside downsides"
        " tradeoff tradeoffs limitation limitations one ones other another else also too instead"
        " interviewer interviewers look looking expect expecting hear want"
        # the form of an answer to give: "what should i say in 30 seconds", "the elevator pitch"
        " say seconds minute minutes pitch elevator sentence sentences plain english analogy intuition catch"
        " tl dr version numpy tensorflow keras jax real world case cases"
    )
)
# Asking for more of the same answer, beside FORM_WORDS ("go on", "tell me more", "give an example").
MORE_WORDS = frozenset(
    tokenize(
        "go on continue keep going tell give more please pls plz can could you me"
        # asking for it again, another way: "i don't get it", "simpler please", "still confused"
        " dont don't get understand confused lost simpler simply easier clearer still sure follow following"
    )
)
# A message that is only courtesy ("thanks!", "hi", "ok cool", "bye"): nothing to search.  Its
# words, by what they say (the first kind named decides: "ok thanks" thanks); the filler words
# may come with them ("thank you so much", "that was really helpful").
COURTESY: dict[Courtesy, frozenset[str]] = {
    "thanks": frozenset(
        re.findall(
            r"\w+",
            "thanks thank thx ty tysm thnx thanx cheers appreciate appreciated helpful useful awesome perfect"
            " great excellent brilliant amazing lifesaver",
        )
    ),
    "bye": frozenset(re.findall(r"\w+", "bye goodbye cya later goodnight night")),
    "greeting": frozenset(re.findall(r"\w+", "hi hello hey hiya howdy yo morning afternoon evening greetings sup")),
    "ack": frozenset(
        re.findall(
            r"\w+",
            "ok okay k kk cool nice got gotcha understood clear sense see alright fine sounds good noted"
            " hmm hm hmmm huh interesting yeah yep yup lol lmao haha hahaha hehe xd",
        )
    ),
}
COURTESY_FILLER = frozenset(
    re.findall(
        r"\w+",
        "you u your youre so very much a lot lots it its that thats this was is really super i im ive me my"
        " makes oh ah wow there all for now the help again man guys bot and",
    )
)
# Courtesy and its filler, as topic terms ("fine, what does amazon ask", "thanks for the help, what
# does amazon ask"); not "makes" ("makes sense"), which a question uses for earning ("how much do
# they make at google" is no request for a list).
COURTESY_TERMS = frozenset(tokenize(" ".join((COURTESY_FILLER - {"makes"}).union(*COURTESY.values()))))
DIFFICULTIES = {
    "Easy": frozenset(tokenize("easy easier easiest simple basic beginner")),
    "Medium": frozenset(tokenize("medium intermediate moderate")),
    "Hard": frozenset(tokenize("hard harder hardest difficult tough tricky advanced")),
}
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "last": -1,
}  # fmt: skip
_ORDINAL = re.compile(
    r"\b(" + "|".join(ORDINALS) + r")\b|#\s*(\d{1,3})\b|\b(?:number|option|item|choice)\s+(\d{1,3})\b"
    r"|\b(\d{1,3})(?:st|nd|rd|th)\b"
    # "3", "ok 3", "no. 12"
    r"|^\W*(?:(?:ok(?:ay)?|cool|nice|great|so|and|then|hmm+|um+)\W+)*(?:no\.?\s*)?(\d{1,3})\W*$",
    re.I,
)
# After a pick from a list, the item next to it ("next one", "the one before").
_STEP = re.compile(
    r"\b(?:(next|another|after that|one after|the following)|(previous|prev|one before|before that))\b", re.I
)
MAX_PICKS = 30  # picks in a row that still read the list before them ("1", "2", "3", ...)
COMPANY_WORDS = frozenset(tokenize("which what company companies who ask asks asked"))
PICK_WORDS = frozenset(
    tokenize(
        " ".join(ORDINALS) + " next another previous prev before after following one ones number no option item choice"
        # going back to the list ("back to the list. #3", "go back, the fourth one")
        " back go return list"
    )
)
# "what does tiktok ask?", "jane street ml interview questions": a company's list, by name.
ASKS_AT = re.compile(
    r"^\W*(?:what|which)\s+(?:questions?\s+|kind of questions\s+)?(?:does|do|did|will|would)\s+"
    r"(?P<x>[a-z0-9][\w .&'-]{0,40}?)\s+ask\b"
    r"|^\W*(?P<y>[a-z0-9][\w .&'-]{0,30}?)\s+(?:ml\s+|machine learning\s+|data science\s+)?interview\s+questions\b",
    re.I,
)
# Who asks in an interview, or what kind of interview: never a company's name.
NOT_A_COMPANY = frozenset(
    re.findall(
        r"\w+",
        "i you we they he she it people interviewer interviewers recruiter recruiters company companies hr"
        " some common typical usual most top good hard easy basic tough behavioral behavioural technical coding"
        " system design ml machine learning data science scientist scientists engineer engineers give me my"
        " the a an any all onsite phone screen final what which",
    )
)
# Asking to be asked, or how to prepare ("quiz me on ml", "im prepping for a google interview", "what
# should i study"): the practice page does that; the chat says where, for the company named.
PRACTICE = re.compile(
    r"\b(?:quiz|test|drill|grill) me\b|\bmock interviews?\b|\bask me (?:a |some |an? )?(?:\w+ )?questions?\b"
    r"|\b(?:prep(?:ping|are|aring)?|getting ready|studying|revising) for\b.*\binterviews?\b"
    r"|\bwhat (?:should|do) i (?:study|learn|prepare|revise|practi[cs]e|focus on)\b|\bstudy plan\b",
    re.I,
)
# Asking for advice on the interview itself ("any tips for my ml interview", "how do i ace the
# onsite", "google interview tips"): the practice page too, unless the words besides the advice
# (``ADVICE_ONLY`` taken out) name a topic that search finds with confidence ("tips for the pca
# interview question"), or the message points at the topic so far.
ADVICE = re.compile(
    r"\b(?:tips?|advice|ace|acing|crack|cracking|nail|pass|passing)\b"
    r"(?:\s+\S+){0,5}?\s+(?:interviews?|onsite|phone screen|rounds?)\b"
    r"|\b(?:interview|onsite)\s+(?:tips?|advice)\b",
    re.I,
)
# Asking what the assistant is or does ("help", "what can you do?", "who are you"): the introduction.
# Only the whole message: "how does it work?" after an answer is about the topic.
HELP = re.compile(
    r"^\W*(?:(?:hi|hello|hey)\W+)?(?:(?:(?:can|could) you\s+)?(?:please\s+|pls\s+)?help(?:\s+me)?(?:\s+please|\s+pls)?"
    r"|what (?:can|do) you do|what are you(?: for)?|who are you"
    r"|what(?:'s|s| is) your name|how (?:do|can|should) i use (?:you|this (?:bot|app|site|tool|chat))"
    r"|what (?:can|should) i ask(?: you)?|what (?:do|can) you (?:know|cover|answer)"
    r"|what (?:other )?(?:topics|subjects) (?:do you (?:cover|know|have)|are there|can i ask(?: about)?))\W*$",
    re.I,
)
# Asking for a question to practise on ("give me a hard question to practice", "next question
# please" with no list to step through): the practice page.
PRACTISE_ON = re.compile(
    r"\bgive me (?:a|an|another|one more|some)(?:\s+\w+){0,2}\s+questions?\b|\bto practi[cs]e\b"
    r"|\bpractice (?:questions?|problems?)\b",
    re.I,
)
# A message with no topic word that asks about questions or the field ("what are the most common
# ml interview questions", "machine learning"): the practice page rather than a refusal.
ABOUT_THE_BANK = re.compile(
    r"\b(?:questions?|qs|interviews?|ml|machine learning|data science|deep learning|ai|topics?)\b", re.I
)
NEXT_QUESTION = re.compile(r"^\W*(?:(?:ok|okay|cool|great)\W+)?(?:next|another) question\b", re.I)
ADVICE_ONLY = re.compile(r"\b(?:tips?|advice|ace|acing|crack|cracking|nail|pass|passing)\b", re.I)
REPLIED = ("company_check", "practice", "list_end")  # turns answered with a reply that the topic goes on past
ASKED_AT = re.compile(
    r"\b(?:asked|ask)\s+(?:at|by|in)\s+(?P<x>[a-z0-9][\w .&'-]{0,30}?)\s*[?.!]*$"
    r"|^\W*(?:is|does|do|did|would|will)\s+(?P<y>[a-z0-9][\w .&'-]{0,30}?)\s+ask\s+(?:it|this|that|about it)\b",
    re.I,
)
ASK_VERB = re.compile(r"\bask(?:s|ed|ing)?\b", re.I)
# "which companies ask this?", "who asks it?": about the topic so far, answered from its "Asked by" line.
WHO_ASKS = re.compile(r"\b(?:(?:which|what) compan(?:y|ies)|who)\b.*\b(?:ask|asks|asked)\b", re.I)
LIST_CUE = re.compile(
    r"\b(which|those|these|them|ones?|only|just|any|anything|list|of them|questions|qs)\b"
    r"|\bwhat\b.*\bask(?:s|ed)?\b",  # "what does amazon ask about deep learning": its questions on that
    re.I,
)
LIST_WORDS = frozenset(
    tokenize(
        "which those these them ones only just any list of on about difficulty level levels ask asked filter narrow"
    )
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One user message, resolved.

    ``query`` is what was searched (the message, or the message with the
    previous topic); ``focus`` the words that choose what to show;
    ``record`` the turn's topic: what it was answered with, or the closest
    record when it abstained.  For lists: ``filters`` (the
    company and any narrowing) and ``listing``, in the order shown.  A
    ``company_check`` or ``practice`` turn (answered with a reply) keeps the
    turn before it and names the company it is about in ``asked``."""

    message: str
    kind: TurnKind
    query: str
    focus: str
    result: SearchResult | None = None
    record: Record | None = None
    filters: Filters = field(default_factory=Filters)
    listing: tuple[Record, ...] = ()
    asked: str | None = None
    position: int | None = None  # a ``list_end`` turn: the position asked for, past the list
    strayed: Record | None = None  # refused as a new subject rather than glued onto this topic
    anchor: str = ""  # the question that set the topic; a follow-up is searched with it, not the whole chain

    @property
    def answered(self) -> bool:
        """The turn found something to answer with (not an abstention)."""
        return self.kind == "company_list" or bool(self.result and self.result.answerable)


def courtesy(message: str) -> Courtesy | None:
    """What a message that is only courtesy says ("thanks!" thanks, "hi there" greets, "what can
    you do?" asks for help), or None when it asks anything (a topic word, "why?", "show me the
    code")."""
    if HELP.match(message.replace("’", "'")):
        return "help"
    if "?" in message or re.search(r"\d", message) or _STEP.search(message):
        return None  # "ok 3", "cool, next one": a pick
    if message.strip() and not re.search(r"[^\W\d_]", message):
        return "ack"  # "👍", "!!"
    words = re.findall(r"[a-z]+", message.lower().replace("’", "'").replace("'", ""))
    said = [w for w in words if w not in COURTESY_FILLER]
    if not said or not all(any(w in forms for forms in COURTESY.values()) for w in said):
        return None
    return next(kind for kind, forms in COURTESY.items() if any(w in forms for w in said))


def _difficulty(words: set[str]) -> str | None:
    return next((name for name, forms in DIFFICULTIES.items() if words & forms), None)


def reading_window(earlier: Sequence[str]) -> list[str]:
    """The earlier user messages a turn is read with: the last ``MAX_TURNS`` that are not
    courtesy, and further back (at most ``MAX_PICKS`` more) while picks from a list ("1", "2",
    "next one") are within ``MAX_TURNS`` of its start, to the list they pick from, or while no
    message in it names anything ("why?", "go on", "and its code?"), to the topic they follow."""
    return [earlier[i] for i in _window(earlier)]


def turns_kept(turns: Sequence[str]) -> list[str]:
    """The user turns that resolve the last one the same way again (what a Slack button
    stores): ``reading_window`` of the earlier ones and the last, with the courtesy message just
    before a pick ("hi", then "the first one": the questions "hi" was answered with are what it
    picks from)."""
    if not turns:
        return []
    kept = set(_window(turns[:-1]))
    last = len(turns) - 1
    picks = [i for i in (*kept, last) if i > 0 and is_pick(turns[i]) and courtesy(turns[i - 1]) is not None]
    kept |= {i - 1 for i in picks}
    return [turns[i] for i in sorted(kept)] + [turns[last]]


def _window(earlier: Sequence[str]) -> list[int]:
    """``reading_window``'s messages, as positions in ``earlier``."""
    positions = [i for i, m in enumerate(earlier) if courtesy(m) is None]
    questions = [earlier[i] for i in positions]
    start = max(0, len(questions) - MAX_TURNS)
    while (
        start > 0
        and len(questions) - start < MAX_TURNS + MAX_PICKS
        and (
            any(map(is_pick, questions[start : start + MAX_TURNS])) or not any(map(names_something, questions[start:]))
        )
    ):
        start -= 1
    return positions[start:]


def names_something(message: str) -> bool:
    """The message has a word that is not only asking for more of the answer so far ("why?",
    "go on", "tell me more", "can you give an example?", "and its code?" have none)."""
    words = {w for w in tokenize(message) if not w.isdigit()}  # "in 30 seconds", "3 bullet points"
    return bool(words - FORM_WORDS - MORE_WORDS - COURTESY_TERMS - PICK_WORDS)


def strayed_chip(turn: Turn) -> tuple[str, ...]:
    """What a refusal of a new subject mid-chat offers first: the message as a follow-up on the
    topic it was not glued onto ("About “How Does Gradient Descent Work?”: ..."); () otherwise."""
    if turn.strayed is None:
        return ()
    return (f"About “{turn.strayed.title}”: {turn.message.strip()}",)


def _framed(message: str) -> re.Match[str] | None:
    """An interview word framing the question that follows, at the start ("interview question: X",
    "asked in my interview: X"): X is a new question, unless it points back ("... how would you
    explain it to a PM")."""
    frame = INTERVIEW_FRAME.search(message)
    if frame is None or message[: frame.start()].count(" ") > 4 or ANAPHORA.search(message[frame.end() :]):
        return None
    return frame


def is_pick(message: str) -> bool:
    """A short message that names a position in a list ("the second one", "3", "next one"),
    not a question that mentions one ("what is the last layer of a cnn?")."""
    return len(message.split()) <= 6 and bool(_ORDINAL.search(message) or _STEP.search(message))


def is_step(message: str) -> bool:
    """The pick is a step from the item shown ("next one", "previous one"), not a position."""
    return _ORDINAL.search(message) is None and _STEP.search(message) is not None


def asked_company(message: str) -> str | None:
    """The company a message asks the list of by name ("what does tiktok ask?", "jane street
    interview questions"), whether or not the banks know it; None when it names no company
    ("what do interviewers ask about kafka?", "behavioral interview questions")."""
    return _company_named(ASKS_AT.match(message))


def asked_at(message: str) -> str | None:
    """The company a message asks about the topic so far by name ("is this asked at tiktok?",
    "does jane street ask it"), whether or not the banks know it; None when it names none."""
    return _company_named(ASKED_AT.search(message))


def _company_named(m: re.Match[str] | None) -> str | None:
    """The name in ``m``'s ``x`` or ``y`` group, if it reads as a company's: three words at
    most, none of them the asker, the interview or the field (``NOT_A_COMPANY``)."""
    if m is None:
        return None
    name = (m.group("x") or m.group("y")).strip()
    words = re.findall(r"[\w&'-]+", name.lower())
    if not words or len(words) > 3 or any(w in NOT_A_COMPANY for w in words):
        return None
    return name


def _ordinal(message: str, size: int, current: int | None = None) -> int | None:
    """The 0-based position an ordinal in ``message`` names ("the second one", "#12",
    "3rd", "3"), or a step from the ``current`` pick ("next one"); maybe past the list
    (-1: before it), None when the message names none."""
    m = _ORDINAL.search(message)
    if m is not None:
        word, *numbers = m.groups()
        n = ORDINALS.get(word.lower(), 0) if word else int(next(x for x in numbers if x))
        position = size - 1 if n == -1 else n - 1
    elif (step := _STEP.search(message)) is not None:
        position = (-1 if current is None else current) + (1 if step.group(1) else -1)
    else:
        return None
    return max(position, -1)


class ConversationResolver:
    """Resolves the last user message of a conversation into a ``Turn``."""

    def __init__(
        self,
        searcher: Searcher,
        k: int = 10,
        mode: str = "hybrid",
        use_cache: bool = True,
        catalog: BankCatalog | None = None,
    ) -> None:
        """``catalog``: the banks' catalog the answers offer questions from (the composer's);
        made from the searcher's records when first needed otherwise."""
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        if mode not in searcher.pipelines:
            raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(searcher.pipelines)}")
        self.searcher = searcher
        self._catalog = catalog
        self.k = k
        self.mode = mode
        self.use_cache = use_cache
        tags = {t for r in searcher.records.values() for t in r.tags}
        self._tag_words = {t: frozenset(searcher.analyzer.run(t).topic_terms) for t in tags}
        self._listable = frozenset(searcher.doc_ids)  # questions and the rows no question answers
        self._record_words: dict[str, frozenset[str]] = {}
        # Words of the neighbouring subjects' questions that no bank uses ("gil", "dataframe"): a
        # message naming one names a subject the banks do not cover (index.neighbours).
        near = searcher.artifact.neighbours
        vocabulary = searcher.artifact.sparse.term_ids
        self._foreign = frozenset(
            t for t in tokenize(" ".join(near.questions) if near is not None else "") if t not in vocabulary
        )
        self._headings: np.ndarray | None = None  # every section heading's vector, made when first needed
        self._headings_lock = threading.Lock()

    @property
    def listable(self) -> frozenset[str]:
        """The records a company's list may hold: the questions and the rows no question answers."""
        return self._listable

    def resolve(self, messages: Sequence[str], filters: Filters | None = None) -> Turn:
        if not messages:
            raise ValueError("no user message to resolve")
        # "thanks" between two questions is no turn: the topic (or the list) goes on past it.
        last = messages[-1]
        turn: Turn | None = None
        shown: Turn | None = None  # the last message's turn, even one the topic goes on past
        checked = False  # the message before was a company check: "what about amazon?" checks another
        preparing: str | None = None  # the company a preparation message named ("im prepping for google")
        carried: tuple[str, ...] = ()  # the questions offered that the message before picked from
        for i in _window(messages[:-1]):
            message = messages[i]
            if turn is not None and self._repeats(message, turn):
                continue  # the same question again (a Slack thread repeats it): the same turn
            # "the first one" of the questions offered, read as that question also when a follow-up
            # comes after it: "why?" next was searched as "the first one why?"
            picked = self._picked(message, messages[:i], turn, shown, filters or Filters(), carried)
            carried = picked[1] if picked is not None else ()
            resolved = shown = (
                picked[0]
                if picked is not None
                else self._turn(message.strip(), turn, filters or Filters(), checked, preparing)
            )
            checked = resolved.kind == "company_check" or self._asked_with_topic(message, resolved)
            if resolved.strayed is not None:
                continue  # a new subject refused mid-chat: the topic before it goes on past it
            if resolved.kind == "practice":
                preparing = resolved.asked
            if resolved.kind not in REPLIED:  # "is it asked at google?" in between: the topic goes on past it
                turn = resolved
            elif resolved.kind == "company_check" and resolved.record is not (turn.record if turn else None):
                turn = replace(resolved, kind="standalone")  # "who asks about pca" named a topic: it goes on
        picked = self._picked(last, messages[:-1], turn, shown, filters or Filters(), carried)
        if picked is not None:
            return picked[0]
        if courtesy(last) is not None:
            # Nothing to search: answered with a reply, the topic so far kept for what follows.
            if turn is None:
                return Turn(last.strip(), "courtesy", last.strip(), "")
            return replace(turn, message=last.strip(), kind="courtesy")
        if turn is not None and self._repeats(last, turn):
            return turn
        return self._turn(last.strip(), turn, filters or Filters(), checked, preparing)

    def _asked_with_topic(self, message: str, turn: Turn) -> bool:
        """A question of whether a company asks a topic, answered with the topic's answer
        ("does amazon ask about svms"): "what about netflix?" next checks that company."""
        if turn.kind not in ("standalone", "followup") or not turn.answered or not ASK_VERB.search(message):
            return False
        analyzed = self.searcher.analyzer.run(message)
        return bool(analyzed.companies) and not analyzed.company_only

    def _picked(
        self,
        message: str,
        before: Sequence[str],
        turn: Turn | None,
        shown: Turn | None,
        filters: Filters,
        carried: tuple[str, ...] = (),
    ) -> tuple[Turn, tuple[str, ...]] | None:
        """ "the first one" after "hi" (or a refusal), which offered questions to try: that
        question, as if asked, and the questions offered; None when the message picks none of
        them.  ``carried``: the questions the message before picked from, which a pick right
        after it picks from again ("the first one", then "the second one")."""
        offered = self._offered(before, shown if shown is not None and shown.strayed is not None else turn) or carried
        if not offered or not is_pick(message) or self._says_more(message):
            return None
        position = _ordinal(message, len(offered))
        if position is None or not 0 <= position < len(offered):
            return None
        return replace(self._turn(offered[position], None, filters), message=message.strip()), offered

    def _offered(self, earlier: Sequence[str], turn: Turn | None) -> tuple[str, ...]:
        """The questions the last answer offered to try, in their order: a greeting's (or any
        courtesy with no topic yet) and a refusal's (the composer shows the bank's examples
        under "Try questions like:"); () when it offered none."""
        if not earlier:
            return ()
        if courtesy(earlier[-1]) is not None:
            return self.examples[:SHORT_EXAMPLES] if turn is None or not turn.answered else ()
        searched = turn is not None and turn.kind in ("standalone", "followup", "comparison")
        refused = searched and turn is not None and not turn.answered and turn.message == earlier[-1].strip()
        return self.examples if refused else ()

    def _says_more(self, message: str) -> bool:
        """The message says something besides a position ("explain second order optimization",
        "next sentence prediction"): a question, not a pick."""
        own = [t for t in self.searcher.analyzer.run(message).topic_terms if t not in FORM_WORDS]
        return bool(_beyond_pick(own))

    @property
    def examples(self) -> tuple[str, ...]:
        if self._catalog is None:
            self._catalog = BankCatalog.of(self.searcher.records.values())
        return self._catalog.examples

    @staticmethod
    def _repeats(message: str, turn: Turn) -> bool:
        """The same question as the turn's again; a pick again ("next one", "next one") moves on."""
        return not is_pick(message) and _said(message) == _said(turn.message)

    def ranked(self, turn: Turn) -> tuple[str, ...]:
        """The record ids the turn answers with, best first: a list in its order,
        a picked item before the rest."""
        if turn.kind == "company_list":
            return tuple(r.id for r in turn.listing)[: self.k]
        if turn.kind == "courtesy" or turn.kind in REPLIED:
            return ()  # a reply, no record
        ids = tuple(h.record.id for h in turn.result.hits) if turn.result else ()
        if turn.kind == "list_item" and turn.record is not None:
            return (turn.record.id, *(i for i in ids if i != turn.record.id))
        return ids

    # -- one turn ---------------------------------------------------------------------

    def _search(self, query: str, filters: Filters) -> SearchResult:
        return self.searcher.search(query, k=self.k, mode=self.mode, filters=filters, use_cache=self.use_cache)

    def _turn(
        self,
        message: str,
        previous: Turn | None,
        filters: Filters,
        checked: bool = False,
        preparing: str | None = None,
    ) -> Turn:
        spoken = INTERJECTION.match(message)
        if spoken is not None:
            # "hmm not sure i follow": the interjection is no acronym (HMMs); "hmm?" alone asks for more,
            # and first of all ("hmm ok what now") it is no question (it answered Hidden Markov Models)
            rest = message[spoken.end() :].strip()
            if not rest:
                if previous is None:
                    return Turn(message, "courtesy", message, "")
                return replace(previous, message=message, kind="followup") if previous.answered else previous
            return replace(self._turn(rest, previous, filters, checked, preparing), message=message)
        change = TOPIC_CHANGE.match(message) or _framed(message)
        # "next question please" names no new question: the practice page (``_reply_turn``)
        if previous is not None and change is not None and names_something(message[change.end() :]):
            fresh = self._turn(message[change.end() :].strip(), None, filters)
            return replace(fresh, message=message)
        analyzed = self.searcher.analyzer.run(message)
        narrowing = self._narrowing(analyzed.topic_terms, message)
        reply = self._reply_turn(message, analyzed, narrowing, previous, filters, checked, preparing)
        if reply is not None:
            return reply
        if previous is not None and not analyzed.companies and asked_company(message) is not None:
            return self._alone(message, filters)  # "what does tiktok ask?" mid-chat: refused as asked
        pointing = previous is not None and previous.kind != "company_list" and previous.answered
        listed = self._list_asked(analyzed, narrowing, filters)
        if listed is not None and not (pointing and ANAPHORA.search(message)):
            # a company's list ("what does Uber ask?"); "how does google use it?" is about the topic
            listing = self._listing(message, listed, "")
            # on a topic named by a tag ("what does amazon ask about deep learning"): its questions
            # there, when it has several; one or none, and the topic is searched (and answered, or
            # said not to be asked by the company)
            if narrowing is None or narrowing[1] is None or len(listing.listing) >= 2:
                return listing
        own = self._own_words(message, analyzed)
        emptied = previous is not None and previous.kind == "company_list" and not previous.listing
        if previous is not None and emptied and is_pick(message) and not _beyond_pick(own):
            return replace(previous, message=message, kind="list_end")  # "the first one" of no questions: said so
        if previous is not None and previous.listing:
            picked = self._pick(message, own, narrowing, previous)
            if picked is not None:
                return picked
        if previous is not None and previous.kind == "company_list" and not own and not is_pick(message):
            return replace(previous, message=message)  # "tell me more" after a list: the list stays
        if previous is None or previous.record is None:
            return self._alone(message, filters)
        placed = self._place_topic(message) if ANAPHORA.search(message) else None
        if placed is not None:  # "what about random forests, is pruning needed there?": that topic
            alone = self._alone(message, filters)
            if alone.record is not None and self._titled(alone.record, placed[1]):
                return alone
            return replace(self._alone(placed[0], filters), message=message)
        continuing = f"{previous.focus} {message}"
        if not own or ANAPHORA.search(message):
            # "go on", "why?": more of the answer shown, not what the glued search ranks first
            # ("go on" after L1 vs L2 answered the regularization overview)
            return self._with_previous(message, previous, filters, "followup", focus=continuing, keep=not own)
        alone = self._alone(message, filters)
        # Whether the message goes on with the previous answer is read on the whole bank: under
        # filters (Uber's three Hard questions) the previous answer is always near the top and
        # nothing is confident, so "what is dropout" after one of them would be glued onto it.
        judged = alone if filters.is_empty() else self._alone(message, Filters())
        # Evidence that the message is about the previous answer: that record
        # ranks near the top for the message on its own, or, for "what about
        # X?", its text covers every topic word of the message.
        # Near the top with some evidence: under the low cosine floor, the order of a refused
        # message's hits is chance ("what's a good recipe for banana bread" had cross-validation 3rd).
        floor = self.searcher.abstention.config.dense_low if self.mode != "bm25" else 0.0  # bm25: no cosine
        related = judged.result is not None and previous.record.id in {
            h.record.id for h in judged.result.hits[:RELATED_RANK] if h.dense_score >= floor
        }
        if THEN.search(message):
            related = True  # "how should i split then": in the case so far
        if CONTINUING.search(message) and set(own) <= self._words_of(previous.record.id):
            related = True
        confident = self._confident(judged.result)
        if related and confident and self._elsewhere(judged.result, previous.record):
            related = False
        answered_alone = alone.result is not None and alone.result.answerable
        if answered_alone and not previous.answered:
            # after a refusal nothing was shown to follow up on: a question the banks answer on its
            # own is that question ("what about for trees?" after a refused question was glued onto
            # it and refused too; "exmaple?" still is, and may find what the two say together)
            return alone
        unknown = [t for t in own if t not in self.searcher.artifact.sparse.term_ids]
        named = (
            (len(unknown) >= 2 and len(unknown) == len(own) and not INTERVIEWER.search(message))
            or any(t in self._foreign for t in own)
            or (alone.result is not None and alone.result.neighbour is not None)
            or bool(analyzed.companies)
        )
        if not answered_alone and named and (not related or analyzed.companies):
            # Refused on its own, naming what the banks do not cover (two or more words they never
            # use, a neighbouring subject's word, a neighbouring subject's question clearly closer
            # than the banks, or a company: "does netflix sponsor visas" is about Netflix, not the
            # topic so far), and the previous answer not near the top of its own search: "how do I
            # negotiate salary" after GANs, "what is the GIL in python" after dropout.  A new
            # question, refused as asked, not glued onto the previous topic (where the previous
            # answer's words would carry it; with a company named, the previous answer near the
            # top of that company's few questions says nothing).  "show me the right way in code"
            # names nothing new, and "what would an interviewer push back on" speaks of the
            # interview on the topic: follow-ups.
            strayed = previous.record if names_something(message) and previous.answered else None
            return replace(alone, strayed=strayed)
        if APPLIED_TO.match(message):
            # searched with the topic so far, shown at the part the new words name: "what about for
            # time series?" after cross-validation is its time-series split, not the ARIMA answer
            return self._with_previous(message, previous, filters, "comparison", focus=" ".join(own))
        if COMPARISON.search(message) and not (TWO_SIDED.search(message) and confident and not related):
            side = [t for t in own if not COMPARISON.search(t)]
            compared = self._with_previous(message, previous, filters, "comparison", focus=" ".join(side or own))
            if (
                compared.record is previous.record
                and answered_alone
                and self._names_other(alone.result, previous.record, side)
            ):
                # "how is batch norm different?" after dropout: no answer compares the two, and the
                # previous one was just shown; the side's own answer, titled with it
                return replace(alone, kind="comparison", focus=" ".join(side))
            return compared
        titled = answered_alone and self._names_other(alone.result, previous.record, own)
        if not answered_alone and not related and self._strays(message, previous):
            return replace(alone, strayed=previous.record)
        if (related or not confident) and not titled:
            if CONTINUING.search(message) and not ANAPHORA.search(message):
                # "and boosting?", "what about elastic net?": the previous topic, shown at the part
                # the new words name (as a comparison's side is), not at the section shown before.
                return self._with_previous(message, previous, filters, "comparison", focus=" ".join(own))
            return self._with_previous(message, previous, filters, "followup", focus=continuing)
        return alone

    def _reply_turn(
        self,
        message: str,
        analyzed: AnalyzedQuery,
        narrowing: tuple[str | None, str | None] | None,
        previous: Turn | None,
        filters: Filters,
        checked: bool,
        preparing: str | None = None,
    ) -> Turn | None:
        """A message answered with a reply in words rather than a record, or None: asking to be
        quizzed ("practice"), or whether a company asks the topic ("company_check")."""
        # with a list, "next question" steps through it; "give me a practice question on this" is
        # about the topic so far
        stepping = previous is not None and bool(previous.listing)
        points_back = ANAPHORA.search(message) is not None
        on_topic = previous is not None and previous.answered and points_back  # the topic so far
        practising = bool(PRACTICE.search(message)) or (PRACTISE_ON.search(message) is not None and not on_topic)
        practising = practising or (NEXT_QUESTION.search(message) is not None and not stepping and not on_topic)
        if not analyzed.topic_terms and not analyzed.companies and ABOUT_THE_BANK.search(message):
            # "what are the most common ml interview questions" even after an answer; "machine
            # learning" alone only where no topic goes on
            about_questions = re.search(r"\b(?:questions?|qs|interviews?)\b", message, re.I) is not None
            fresh = previous is None or not previous.answered
            practising = practising or ((about_questions and not points_back) or fresh)
        asks = PRACTISE_ON.sub(" ", PRACTICE.sub(" ", message))
        practice = practising and not self._names_a_topic(asks, filters)
        # advice on the interview, not on the topic so far ("any tips for explaining this in an interview?")
        advice = (
            ADVICE.search(message)
            and not on_topic
            and not self._names_a_topic(ADVICE_ONLY.sub(" ", message), filters, confident=True)
        )
        if practice or advice:
            # ("what should i learn first, pca or t-sne", "quiz me on dropout" name a topic: searched)
            listed = previous.filters.company if previous is not None and previous.listing else None
            # the company named now, else the list's, else the one a preparation message named
            company = analyzed.companies[0] if analyzed.companies else listed or preparing
            kept = previous or Turn(message, "practice", message, "")
            return replace(kept, message=message, kind="practice", asked=company)
        answered = previous is not None and previous.kind != "company_list" and previous.answered
        if previous is not None and answered and ANAPHORA.search(message):
            # "is it asked at Google?", "does netflix ask it?", "which companies ask this?": about
            # the topic so far, answered from its companies; the topic goes on past it.
            asked = analyzed.companies and narrowing == (None, None) and ASK_VERB.search(message)
            if asked or (WHO_ASKS.search(message) and not set(analyzed.topic_terms) - COMPANY_WORDS):
                company = analyzed.companies[0] if asked else None
                return replace(previous, message=message, kind="company_check", asked=company)
            other = asked_at(message)  # "is this asked at tiktok?": a company the banks do not list
            if other is not None and not analyzed.companies:
                return replace(previous, message=message, kind="company_check", asked=other)
        if (
            checked
            and answered
            and previous is not None
            and analyzed.companies
            and narrowing == (None, None)
            and CONTINUING.search(message)
        ):  # "is it asked at google?", then "what about amazon?"
            return replace(previous, message=message, kind="company_check", asked=analyzed.companies[0])
        if WHO_ASKS.search(message) and set(analyzed.topic_terms) - COMPANY_WORDS:
            about = self._alone(message, filters)  # "who asks about pca": that topic's companies
            if about.result is not None and about.result.answerable and about.record is not None:
                return replace(about, kind="company_check", asked=None)
        return None

    def _pick(
        self, message: str, own: Sequence[str], narrowing: tuple[str | None, str | None] | None, previous: Turn
    ) -> Turn | None:
        """After a list, or an item picked from one, the list stays to pick from ("and the
        third?", "next one") or to narrow; after a pick, only a message that says nothing else
        picks again ("explain the second step" asks about the item shown).  None: neither."""
        listing = previous.listing
        current = listing.index(previous.record) if previous.record in listing else None
        picked = previous.kind != "company_list" and current is not None
        says_more = _beyond_pick(own)
        step = is_step(message)  # "next one", not "the second one"
        position = None if says_more and (picked or step) else _ordinal(message, len(listing), current)
        if position is None:
            # a question of the list asked by its title (the page's buttons ask titles): that item,
            # and the list stays for "next one" (it was searched alone and the list was lost)
            said = _title_key(message)
            position = next((i for i, r in enumerate(listing) if _title_key(r.title) == said), None)
        if position is not None and not 0 <= position < len(listing):
            # "the 5th" of four, "next" after the last: said so, and the list stays
            return replace(previous, message=message, kind="list_end", position=position)
        if position is not None:
            record = listing[position]
            item = self._alone(record.title, previous.filters)
            return replace(
                item, message=message, kind="list_item", record=record, listing=listing, filters=previous.filters
            )
        if narrowing is not None and narrowing != (None, None):
            return self._listing(message, _narrow(previous.filters, *narrowing), previous.focus)
        if picked and not says_more and BACK_TO_LIST.search(message):
            # "back to the list": shown again, the item left still the one "next one" goes on from
            return replace(self._listing(message, previous.filters, previous.focus), record=previous.record)
        return None

    def _place_topic(self, message: str) -> tuple[str, tuple[str, ...]] | None:
        """ "what about X, ... there": a place word after a new topic X that titles a record of
        its own is about that topic ("what about knn, how do i pick k there", "and for k-means,
        how do i pick k there"), not the previous one: (X, its topic words), or None.  A pronoun
        alone stays with the previous topic ("what about outliers, does it handle them", "for
        large datasets, does it scale")."""
        start = NAMES_NEW.match(message)
        if start is None:
            return None
        place = next((m for m in ANAPHORA.finditer(message) if PLACE.fullmatch(m.group(0))), None)
        if place is None:
            return None
        named = re.split(r"[,;:?!]", message[start.end() : place.start()], maxsplit=1)[0]
        words = sorted(_beyond_pick([t for t in self.searcher.analyzer.run(named).topic_terms if t not in FORM_WORDS]))
        if not words:
            return None
        result = self._search(named, Filters())
        if result.answerable and result.hits and self._titled(result.hits[0].record, words):
            return named, tuple(words)
        return None

    def _names_a_topic(self, text: str, filters: Filters, confident: bool = False) -> bool:
        """``text`` has topic words, one of them a word of the banks ("upcoming" in "any tips for my
        upcoming google interview" is none), and the banks answer it (``confident``: on the
        evidence of its best record, ``_confident``)."""
        own = [t for t in self.searcher.analyzer.run(text).topic_terms if t not in FORM_WORDS]
        if not any(t in self.searcher.artifact.sparse.term_ids for t in own):
            return False
        result = self._search(text, filters)
        return self._confident(result) if confident else result.answerable

    def _words_of(self, record_id: str) -> frozenset[str]:
        """The topic words of a record's whole text (title, sections, insight)."""
        words = self._record_words.get(record_id)
        if words is None:
            texts = [c.text for c in self.searcher.artifact.chunks if c.doc_id == record_id]
            words = self._record_words[record_id] = frozenset(tokenize(" ".join(texts)))
        return words

    def _alone(self, message: str, filters: Filters) -> Turn:
        result = self._search(message, filters)
        top = result.hits[0].record if result.hits else None
        return Turn(message, "standalone", message, message, result, top, anchor=message)

    def _with_previous(
        self, message: str, previous: Turn, filters: Filters, kind: TurnKind, focus: str, keep: bool = False
    ) -> Turn:
        """Searched together with the previous topic.  Too little evidence to
        answer, but the previous answer still ranks first: it is still the topic.
        With ``keep`` (a message with no topic words of its own) the previous answer
        stays first whenever the search finds it."""
        anchor = previous.anchor or previous.query
        query = f"{anchor} {message}"
        result = self._search(query, filters)
        if keep and previous.answered and result.hits and result.hits[0].record is not previous.record:
            shown = next((h for h in result.hits if h.record is previous.record), None)
            if shown is not None:
                result = replace(result, hits=(shown, *(h for h in result.hits if h is not shown)))
        top = result.hits[0].record if result.hits else None
        if not result.answerable and previous.answered and top is not None and top is previous.record:
            result = replace(result, answerable=True)
        # A follow-up on an item picked from a list keeps the list ("show me the code", then "and the third?").
        listed = previous.listing if previous.kind != "company_list" and top in previous.listing else ()
        kept = previous.filters if listed else Filters()
        return Turn(
            message, kind, query, focus, result, top, kept, listed, anchor=anchor if top is previous.record else query
        )

    def _own_words(self, message: str, analyzed: AnalyzedQuery) -> list[str]:
        """The message's topic words that are not about the form of the answer or asking for more,
        the form words taken out before spelling correction ("in short?": "short" is no bank
        word and was corrected to "sort")."""
        words = re.findall(r"[\w'’;]+", message)
        kept = [w for w in words if not set(tokenize(w)) <= FORM_WORDS | MORE_WORDS]
        if len(kept) < len(words):
            analyzed = self.searcher.analyzer.run(" ".join(kept))
        return [t for t in analyzed.topic_terms if t not in FORM_WORDS and not t.isdigit()]

    def _strays(self, message: str, previous: Turn) -> bool:
        """A message refused on its own reads as a new subject rather than a follow-up on
        ``previous`` (``STRAY_DRIFT``, ``STRAY_HEADING``).  An interviewer's follow-up ("what would
        an interviewer push back on") and a message that names nothing ("why?") are follow-ups."""
        if previous.record is None or INTERVIEWER.search(message) or not names_something(message):
            return False
        if not previous.answered:
            return False  # the topic before was refused: nothing was shown to be a follow-up on
        embedder = self.searcher.embedder
        if previous.record.id not in self.searcher.doc_ids:
            return False
        # the previous answer's chunks, by the aggregator's chunk-to-record positions
        owner = self.searcher.doc_ids.index(previous.record.id)
        chunks = self.searcher.artifact.embeddings[self.searcher.aggregate.chunk_doc == owner]

        def drift(anchor: str) -> float:
            before = embedder.encode_query(anchor, use_cache=self.use_cache)
            glued = embedder.encode_query(f"{anchor} {message}", use_cache=self.use_cache)
            return float((chunks @ before).max() - (chunks @ glued).max())

        # from the previous question, and from the answer's title: after "go on", "why?" the
        # previous question is long and one more message moves it less
        if max(drift(previous.query), drift(previous.record.title)) < STRAY_DRIFT:
            return False
        aspect = float((self._heading_vectors() @ embedder.encode_query(message, use_cache=self.use_cache)).max())
        return aspect <= STRAY_HEADING

    def _heading_vectors(self) -> np.ndarray:
        with self._headings_lock:
            if self._headings is None:
                chunks = self.searcher.artifact.chunks
                headings = sorted({c.heading for c in chunks if c.kind == "section" and c.heading})
                self._headings = self.searcher.embedder.encode(headings or [""])
            return self._headings

    def _elsewhere(self, result: SearchResult | None, previous: Record) -> bool:
        """The message alone is answered by another record, clearly ahead of the previous
        answer (``SWITCH_MARGIN`` of score, or the previous answer not in its hits)."""
        if result is None or not result.hits or result.hits[0].record.id == previous.id:
            return False
        before = next((h.score for h in result.hits if h.record.id == previous.id), None)
        return before is None or result.hits[0].score - before >= SWITCH_MARGIN

    def _names_other(self, result: SearchResult | None, previous: Record, own: Sequence[str]) -> bool:
        """The message alone is led by another full answer whose title names every topic word
        of the message, and the previous answer's title does not ("and batch norm?" after
        dropout, whose answer mentions batch norm: the message asks for the question titled
        with it, however close the two scores are; "and boosting?" after bagging stays with
        the answer titled with both).  A word names a title word it is, or starts (four
        letters or more: "norm" in "normalization")."""
        if not own or result is None or not result.hits:
            return False
        top = result.hits[0].record
        if top.id == previous.id or top.kind != "question":
            return False
        return self._titled(top, own) and not self._titled(previous, own)

    def _titled(self, record: Record, words: Sequence[str]) -> bool:
        """Every one of ``words`` names a topic word of the record's title."""
        title = self.searcher.title_terms.get(record.id)
        if title is None:
            title = frozenset(self.searcher.analyzer.run(record.title).topic_terms)
        return names_title(words, title)

    def _confident(self, result: SearchResult | None) -> bool:
        """The search's best record clears the abstention's upper floors on its
        own evidence (not only the in-vocabulary fallback)."""
        if result is None or not result.answerable or not result.hits:
            return False
        floors = self.searcher.abstention.config
        top = result.hits[0]
        return top.dense_score >= floors.dense_floor or top.bm25_score >= floors.bm25_floor

    # -- lists ------------------------------------------------------------------------

    def _listing(self, message: str, filters: Filters, focus: str) -> Turn:
        """The records ``filters`` allow, easy to hard, full answers first."""
        order = {"Easy": 0, "Medium": 1, "Hard": 2}
        allows = self.searcher.filter.allows
        records = [r for r in self.searcher.records.values() if r.id in self._listable and allows(filters, r.id)]
        records.sort(key=lambda r: (order.get(r.difficulty or "", 3), r.kind != "question", r.title.lower()))
        return Turn(message, "company_list", message, focus, None, None, filters, tuple(records))

    def list_asked(self, message: str, filters: Filters | None = None) -> Filters | None:
        """The filters of the company list a message asks for on its own ("what does uber ask?",
        "amazon hard questions", "google"), within ``filters``; None when it asks for none."""
        analyzed = self.searcher.analyzer.run(message)
        return self._list_asked(analyzed, self._narrowing(analyzed.topic_terms, message), filters or Filters())

    @staticmethod
    def _list_asked(
        analyzed: AnalyzedQuery, narrowing: tuple[str | None, str | None] | None, filters: Filters
    ) -> Filters | None:
        if not analyzed.companies or narrowing is None:
            return None
        return _narrow(filters.with_company(analyzed.companies[0]), *narrowing)

    def _narrowing(self, topic_terms: Sequence[str], message: str) -> tuple[str | None, str | None] | None:
        """The difficulty and tag a message narrows a list by, when it says
        nothing else ((None, None) for no topic words at all); None when it
        asks about something else."""
        words = set(topic_terms)
        difficulty = _difficulty(words)
        tag = self._tag_named(words)
        rest = words - LIST_WORDS - FORM_WORDS - {w for forms in DIFFICULTIES.values() for w in forms}
        rest -= set(tokenize(tag)) if tag else set()
        rest -= COURTESY_TERMS  # "fine, what does amazon ask"
        if rest or (tag and not difficulty and not LIST_CUE.search(message)):
            return None  # a topic of its own ("decision trees"), not a narrowing of the list
        return difficulty, tag

    def _tag_named(self, topic_terms: set[str]) -> str | None:
        """The longest tag whose topic words are all in the message ("deep
        learning" names Deep Learning; "ml" names no tag: it is no topic)."""
        named = [(len(words), tag) for tag, words in self._tag_words.items() if words and words <= topic_terms]
        return max(named)[1] if named else None


def _said(text: str) -> str:
    """A message as compared with another: case and spaces aside."""
    return " ".join(text.lower().split())


def _title_key(text: str) -> str:
    """A title as compared with what was typed: case, spaces and end punctuation aside."""
    return _said(text).rstrip("?.! ")


def _beyond_pick(own: Sequence[str]) -> set[str]:
    """The topic words of a message that name no position in a list ("3rd", "next", "one")."""
    return {t for t in own if t not in PICK_WORDS and not re.fullmatch(r"\d+(?:st|nd|rd|th)?", t)}


def _narrow(filters: Filters, difficulty: str | None, tag: str | None) -> Filters:
    return replace(filters, difficulty=difficulty or filters.difficulty, tag=tag or filters.tag)
