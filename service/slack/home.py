"""The bot's App Home tab: what it does, questions to try, and how to ask.

Published with ``views.publish`` when someone opens the Home tab
(``app_home_opened``); the same for everyone, built from the banks loaded
(their names and example questions) and the web UI's address.
"""

from __future__ import annotations

from typing import Any

from qbank.answer import BankCatalog
from service.slack.kit import Block, context, header, section
from service.slack.mrkdwn import escape, link

NOT_GUESSING = "I answer only from the banks: when a question is not in them I say so, and never guess."
HOW_TO_ASK = (
    "*How to ask*\n"
    "• *`/ask how does dropout work`* in any channel or DM: the answer is shown only to you first; "
    "*Share in channel* posts it for everyone, with your name and question above it.\n"
    "• *Mention me* in a channel I'm in (`@qbank how does dropout work`): I answer in a thread under "
    "your message.\n"
    "• *Send me a direct message* from the Messages tab.\n"
    '• *Follow up in the thread*: "and its code?", "how is boosting different?", or "what does Uber '
    'ask?" then "which of those are hard?" or "the second one".'
)
PRACTICE = (
    "*Practise*\n"
    "• *`/ask practice`* deals flashcards in a direct message, due ones first: think of (or type in the "
    "card's thread) your answer, *Reveal* it, grade yourself Again, Hard, Good or Easy, and the card comes "
    "back when you're about to forget it. A typed answer is scored against what the interviewer listens for.\n"
    "• Narrow it down: `/ask practice google medium`, `/ask practice deep learning`, or `/ask practice weak` "
    "for the cards you last graded Again or Hard.\n"
    "• `/ask practice remind on` (or `off`): a message each day you have cards due."
)
EACH_ANSWER = (
    "*Each answer* starts short: the key part, its code and numbered sources. *Show full answer* "
    "expands it in place, *Open* shows it on the web, and 👍 / 👎 tell us whether it helped."
)


def home_view(public_url: str, catalog: BankCatalog | None) -> dict[str, Any]:
    """The Home tab's view, for ``views.publish`` (``catalog`` None: still loading)."""
    if catalog is None or not catalog.banks:
        intro = "The question banks are still loading; ask again in a minute. " + NOT_GUESSING
        tries = ""
    else:
        names = ", ".join(f"“{b}”" for b in catalog.banks)
        intro = (
            f"I answer interview questions from curated question banks ({names}): concepts, formulas, "
            f"code and what interviewers look for. {NOT_GUESSING}"
        )
        tries = "\n".join(f"• {escape(q)}" for q in catalog.examples)
    blocks: list[Block] = [
        header("qbank: interview questions, answered"),
        section(escape(intro)),
        *([section(f"*Questions to try*\n{tries}")] if tries else []),
        section(HOW_TO_ASK),
        section(PRACTICE),
        section(EACH_ANSWER),
        context(f"Every answer is also on the web: {link(public_url, escape(public_url))}"),
    ]
    return {"type": "home", "blocks": blocks}
