// The practice page.  Asks /api/practice/next for the next card in the scope
// the form names (the page's URL), shows the question with the answer hidden,
// reveals it (Space, or the button), and posts the grade (1-4, or the
// buttons) to /api/practice/grade, then asks for the next card.  The learner
// is the qbank_learner cookie the first request sets.
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
  const RATINGS = ["again", "hard", "good", "easy"];
  const STATUS = { new: "New", learning: "Learning", review: "Review", relearning: "Relearning" };

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
    const parts = [`${next.due} due`, `${next.new_left} new left today`];
    if (next.next_due) parts.push(`next due in ${inWords(next.next_due)}`);
    counts.textContent = parts.join(" · ");
  }

  function showCard(card) {
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
    title.focus();
    announce.textContent = `Question: ${q.title}`;
  }

  function showDone(next) {
    current = null;
    cardBox.hidden = true;
    cardBox.dataset.questionId = "";
    done.hidden = false;
    let detail;
    if (!next.questions) detail = "No question matches this selection. Pick another one above.";
    else if (next.next_due) {
      detail = `The next card in this selection is due in ${inWords(next.next_due)}. Come back then, or pick another selection above.`;
    } else detail = "Today's new cards are used up and nothing here is due. Come back tomorrow, or pick another selection above.";
    $("#done-detail").textContent = detail;
    announce.textContent = "Nothing to practise right now";
  }

  async function loadNext() {
    busy = true;
    try {
      const next = await request(`/api/practice/next?${scopeParams()}`);
      showError("");
      showCounts(next);
      if (next.card) showCard(next.card);
      else showDone(next);
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
    grades.querySelector('[data-rating="good"]').focus();
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
  grades.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-rating]");
    if (button) grade(button.dataset.rating);
  });

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest("select, input, textarea, a")) return;
    if (event.key === " " && current && answer.hidden) {
      event.preventDefault();
      showAnswer();
    } else if (/^[1-4]$/.test(event.key) && current && !answer.hidden) {
      event.preventDefault();
      grade(RATINGS[Number(event.key) - 1]);
    }
  });

  loadNext();
})();
