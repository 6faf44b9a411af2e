// The practice page.  Asks /api/practice/next for the next card in the scope
// the form names (the page's URL), shows the question with the answer hidden,
// reveals it (Space, or the button), and posts the grade (1-4, or the
// buttons) to /api/practice/grade, then asks for the next card.  The learner
// is the qbank_learner cookie the first request sets.
//
// Mock mode (the checkbox, ?mode=mock): the candidate types an answer first;
// Ctrl+Enter posts it to /api/practice/mock, which says which of the
// insight's signals it hit and missed, and the answer is revealed with it.
// The box takes what the API takes (its maxlength): near the limit it counts
// the characters, and a paste that did not fit says how much was left out.
// On a touch screen the help speaks of buttons, not keys.
//
// Text from the server goes in as textContent; the only HTML put in is the
// answer and insight the server rendered (markdown-it with raw HTML off).
(() => {
  "use strict";

  const $ = (selector) => document.querySelector(selector);
  const scope = $("#scope");
  const counts = $("#counts");
  const cardBox = $("#card");
  const title = $("#card-title");
  const reveal = $("#reveal");
  const answer = $("#answer");
  const grades = $("#grades");
  const done = $("#done");
  const errorBox = $("#error");
  const announce = $("#announce");
  const mockMode = $("#mock-mode");
  const mockForm = $("#mock");
  const mockAnswer = $("#mock-answer");
  const mockScore = $("#mock-score");
  const mockResult = $("#mock-result");
  const mockCount = $("#mock-count");
  const mockCut = $("#mock-cut");
  const RATINGS = ["again", "hard", "good", "easy"];
  const STATUS = { new: "New", learning: "Learning", review: "Review", relearning: "Relearning" };
  const COUNT_FROM = 0.8; // the box counts its characters from this share of its limit
  // A phone or a tablet: no Ctrl, no Esc, no Space to speak of.
  const touch = window.matchMedia("(hover: none) and (pointer: coarse)");
  const EMPTY_ANSWER = {
    keys: "Type your answer first (or press Esc, then Space, to see the answer without a score).",
    touch: "Type your answer first (or tap Show answer to see the answer without a score).",
  };

  let current = null; // the card shown: the API's PracticeCard
  let busy = false;

  function scopeParams() {
    // The scope is the page's own address: the form submits to it when a filter changes.
    const asked = new URLSearchParams(window.location.search);
    const params = new URLSearchParams();
    for (const name of ["company", "difficulty", "tag", "bank"]) {
      if (asked.get(name)) params.set(name, asked.get(name));
    }
    return params;
  }

  function inWords(when) {
    const seconds = Math.max(0, (new Date(when) - Date.now()) / 1000);
    if (seconds < 90) return "1 min";
    if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
    if (seconds < 86400 * 1.5) return `${Math.round(seconds / 3600)} h`;
    if (seconds < 86400 * 60) return `${Math.round(seconds / 86400)} d`;
    return `${Math.round(seconds / (86400 * 30))} mo`;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }
  const asksForAnAnswer = () => Object.values(EMPTY_ANSWER).includes(errorBox.textContent);

  async function request(url, options) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, ...options });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const detail = body && typeof body.detail === "string" ? body.detail : `the server answered ${response.status}`;
      throw new Error(detail);
    }
    return body;
  }

  function showCounts(next) {
    if (!next.questions) {
      counts.textContent = "No questions in this selection";
      return;
    }
    const parts = [`${next.due} due`, `${next.new_left} new left today`];
    if (next.next_due) parts.push(`next due in ${inWords(next.next_due)}`);
    counts.textContent = parts.join(" · ");
  }

  function mocking() {
    // The address says the mode, as it says the scope; the box shows it (after Back too: ui.js).
    return new URLSearchParams(window.location.search).get("mode") === "mock";
  }

  function showMode() {
    // The box to type in, while the answer is still hidden in mock mode.
    const typing = mocking() && current !== null && answer.hidden;
    mockForm.hidden = !typing && mockResult.hidden;
    $("#hint-mock").hidden = !mocking();
    $("#hint-mock-keys").hidden = touch.matches;
    $("#hint-mock-touch").hidden = !touch.matches;
    $("#hint-recall").hidden = mocking();
  }

  const number = (n) => n.toLocaleString("en");

  let cut = 0; // characters of the last paste or drop into the box that did not fit
  function showCount() {
    const limit = mockAnswer.maxLength;
    const length = mockAnswer.value.length;
    const full = length >= limit ? ": the limit, nothing more fits" : "";
    mockCount.hidden = length < limit * COUNT_FROM;
    // (empty while hidden: the box's description reads it, hidden or not)
    mockCount.textContent = mockCount.hidden ? "" : `${number(length)} of ${number(limit)} characters${full}`;
    mockCut.textContent = cut
      ? `Your pasted text was cut to fit the ${number(limit)}-character limit: its last ${number(cut)} ` +
        `character${cut === 1 ? " was" : "s were"} left out and will not be scored.`
      : "";
    mockCut.hidden = !cut;
  }

  function noteCut(text, replaced) {
    // The box keeps what fits of a paste and drops the rest without a word: count what it dropped.
    const room = mockAnswer.maxLength - mockAnswer.value.length + replaced;
    cut = Math.max(0, text.replace(/\r\n?/g, "\n").length - room);
    showCount(); // now: a paste that does not fit at all changes nothing, and says so
  }

  // A typed answer not scored yet is kept for its question across a reload (this tab only).
  const draftKey = () => (current ? `qbank-mock-draft:${current.question.id}` : null);
  function keepDraft() {
    const key = draftKey();
    try {
      if (key && mockAnswer.value) sessionStorage.setItem(key, mockAnswer.value);
      else if (key) sessionStorage.removeItem(key);
    } catch {
      // storage full or off: the draft just isn't kept
    }
  }
  function dropDraft() {
    const key = draftKey();
    try {
      if (key) sessionStorage.removeItem(key);
    } catch {
      // nothing kept, nothing to drop
    }
  }
  function storedDraft() {
    try {
      return (draftKey() && sessionStorage.getItem(draftKey())) || "";
    } catch {
      return "";
    }
  }

  function resetMock() {
    mockAnswer.value = storedDraft();
    mockAnswer.readOnly = false;
    mockScore.hidden = false;
    mockResult.hidden = true;
    cut = 0;
    showCount();
  }

  // The first card arrives after the page has loaded: if the learner has already moved to a
  // filter or a link by then, the card must not take the focus from them (leaving a filter
  // select applies it).  After a grade the next card takes the focus, as the grade was theirs.
  const focusIsFree = () => !document.activeElement || document.activeElement === document.body;

  function showCard(card, first = false) {
    current = card;
    const q = card.question;
    $("#card-status").textContent = STATUS[card.status] || card.status;
    const difficulty = $("#card-difficulty");
    difficulty.textContent = q.difficulty || "";
    difficulty.className = `badge difficulty${q.difficulty ? ` difficulty-${q.difficulty.toLowerCase()}` : ""}`;
    difficulty.hidden = !q.difficulty;
    $("#card-companies").textContent = q.companies.join(", ");
    title.textContent = q.title;
    $("#answer-body").innerHTML = card.answer_html;
    const insight = $("#insight");
    insight.innerHTML = card.insight_html ? `<h2>Interviewer's insight</h2>${card.insight_html}` : "";
    insight.hidden = !card.insight_html;
    $("#card-link").href = `/q/${encodeURIComponent(q.id)}`;
    for (const button of grades.querySelectorAll("button")) {
      button.querySelector("small").textContent = inWords(card.next_due[button.dataset.rating]);
    }
    answer.hidden = true;
    reveal.hidden = false;
    reveal.setAttribute("aria-expanded", "false");
    done.hidden = true;
    cardBox.hidden = false;
    cardBox.dataset.questionId = q.id;
    resetMock();
    showMode();
    if (!first || focusIsFree()) {
      if (mocking()) mockAnswer.focus();
      else title.focus();
    }
    announce.textContent = `Question: ${q.title}`;
  }

  function showDone(next, first = false) {
    current = null;
    cardBox.hidden = true;
    cardBox.dataset.questionId = "";
    done.hidden = false;
    let detail;
    const tomorrow = next.unseen > 0; // today's new cards are used up, more are waiting
    // Tomorrow deals at most the daily limit of them; the rest wait their turn.
    const comeTomorrow = `${Math.min(next.new_per_day, next.unseen)} new tomorrow (${next.unseen} not started yet)`;
    const soon = next.next_due && (!tomorrow || new Date(next.next_due) - Date.now() < 86400e3);
    if (!next.questions) detail = "No question matches this selection. Pick another one above.";
    else if (soon) {
      const more = tomorrow ? `; today's new cards are used up, ${comeTomorrow}` : "";
      detail = `The next card in this selection is due in ${inWords(next.next_due)}${more}. Come back then, or pick another selection above.`;
    } else if (tomorrow) {
      detail = `Today's new cards are used up and nothing here is due; ${comeTomorrow}. Come back then, or pick another selection above.`;
    } else if (next.next_due) {
      detail = `The next card in this selection is due in ${inWords(next.next_due)}. Come back then, or pick another selection above.`;
    } else detail = "Nothing here is due. Pick another selection above.";
    $("#done-detail").textContent = detail;
    // The card that had the focus is gone: the focus goes to what replaced it, as it goes to a new card's title.
    if (!first || focusIsFree()) done.querySelector("h1").focus();
    announce.textContent = "Nothing to practise right now";
  }

  async function loadNext(first = false) {
    busy = true;
    try {
      const next = await request(`/api/practice/next?${scopeParams()}`);
      showError("");
      showCounts(next);
      if (next.card) showCard(next.card, first);
      else showDone(next, first);
    } catch (error) {
      showError(`Could not load the next card: ${error.message}`);
    } finally {
      busy = false;
    }
  }

  function showAnswer() {
    if (!current || !answer.hidden) return;
    answer.hidden = false;
    reveal.hidden = true;
    reveal.setAttribute("aria-expanded", "true");
    mockAnswer.readOnly = true;
    mockScore.hidden = true;
    dropDraft(); // the answer is seen: a draft brought back after it would be no test
    showMode();
    // The answer takes the focus, not a grade button: Space then scrolls it, as on any page,
    // and a grade is given only with 1-4 or a deliberate press.
    answer.focus();
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function showScore(scored) {
    const total = scored.signals.length;
    $("#mock-heading").textContent = total
      ? `Your answer hit ${scored.hits} of ${total} signals`
      : "This question's insight lists no signals to score against";
    $("#mock-testing").textContent = scored.testing ? `What they're testing: ${scored.testing}` : "";
    const list = $("#mock-signals");
    list.replaceChildren(
      ...scored.signals.map((s) => {
        const item = element("li", "", s.hit ? "hit" : "missed");
        item.append(element("span", s.hit ? "Hit: " : "Missed: ", "status"), s.signal);
        if (s.evidence) item.append(element("q", s.evidence));
        return item;
      }),
    );
    const terms = $("#mock-terms");
    terms.replaceChildren();
    const used = scored.key_terms.filter((k) => k.used).map((k) => k.term);
    const unused = scored.key_terms.filter((k) => !k.used).map((k) => k.term);
    if (used.length) terms.append("Key terms you used: ", element("span", used.join(", "), "used"), ". ");
    if (unused.length) terms.append("Terms the answer uses that you did not: ", unused.join(", "), ".");
    $("#mock-probes").replaceChildren(...scored.probes.map((p) => element("li", p)));
    $("#mock-followups").hidden = !scored.probes.length;
    mockResult.hidden = false;
  }

  async function scoreAnswer() {
    if (!current || busy || !answer.hidden) return;
    const text = mockAnswer.value.trim();
    if (!text) {
      showError(touch.matches ? EMPTY_ANSWER.touch : EMPTY_ANSWER.keys);
      return;
    }
    busy = true;
    mockScore.disabled = true;
    try {
      const scored = await request("/api/practice/mock", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ question_id: current.question.id, answer: text }),
      });
      showError("");
      dropDraft();
      showScore(scored);
    } catch (error) {
      showError(`Could not score the answer: ${error.message}`);
      return;
    } finally {
      busy = false;
      mockScore.disabled = false;
    }
    showAnswer();
    $("#mock-heading").focus();
    announce.textContent = $("#mock-heading").textContent;
  }

  async function grade(rating) {
    if (!current || answer.hidden || busy) return;
    busy = true;
    const questionId = current.question.id;
    try {
      await request("/api/practice/grade", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ question_id: questionId, rating }),
      });
    } catch (error) {
      busy = false;
      showError(`Could not save the grade: ${error.message}`);
      return;
    }
    busy = false;
    await loadNext();
  }

  reveal.addEventListener("click", showAnswer);
  mockForm.addEventListener("submit", (event) => {
    event.preventDefault();
    scoreAnswer();
  });
  mockAnswer.addEventListener("input", (event) => {
    keepDraft();
    if (!(event.inputType || "").startsWith("insertFrom")) cut = 0; // typed or deleted since: the note is old news
    showCount();
    if (asksForAnAnswer() && mockAnswer.value.trim()) showError(""); // it has one now
  });
  mockAnswer.addEventListener("paste", (event) => {
    const replaced = mockAnswer.selectionEnd - mockAnswer.selectionStart;
    noteCut(event.clipboardData?.getData("text/plain") || "", replaced);
  });
  let dragged = ""; // text dragged from the box itself: dropped back in, it moves and takes no room
  mockAnswer.addEventListener("dragstart", () => {
    dragged = mockAnswer.value.slice(mockAnswer.selectionStart, mockAnswer.selectionEnd);
  });
  mockAnswer.addEventListener("dragend", () => (dragged = ""));
  mockAnswer.addEventListener("drop", (event) => {
    const text = event.dataTransfer?.getData("text/plain") || "";
    noteCut(text, text === dragged ? text.length : 0);
  });
  mockAnswer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      scoreAnswer();
    } else if (event.key === "Escape") {
      event.preventDefault();
      title.focus();
    }
  });
  mockMode.addEventListener("change", () => {
    // The mode is part of the page's address, like the scope.
    const url = new URL(window.location.href);
    if (mockMode.checked) url.searchParams.set("mode", "mock");
    else url.searchParams.delete("mode");
    window.history.replaceState(null, "", url);
    mockMode.defaultChecked = mockMode.checked; // what the form goes back to after Back (ui.js)
    showMode();
    if (mocking() && !mockForm.hidden && !mockAnswer.readOnly) mockAnswer.focus();
  });
  touch.addEventListener("change", showMode);
  window.addEventListener("pageshow", showMode); // after Back: the mode the address says (ui.js resets the box)
  grades.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-rating]");
    if (button) grade(button.dataset.rating);
  });

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest("select, input, textarea, a")) return;
    // Space on a focused button presses that button ("Score my answer"), as on any page.
    if (event.key === " " && event.target.closest("button")) return;
    if (event.key === " " && current && answer.hidden) {
      event.preventDefault();
      showAnswer();
    } else if (/^[1-4]$/.test(event.key) && current && !answer.hidden) {
      event.preventDefault();
      grade(RATINGS[Number(event.key) - 1]);
    }
  });

  loadNext(true);
})();
