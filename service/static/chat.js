// The chat page: posts the conversation to /api/chat/stream and reads the
// Server-Sent Events (sources, delta, reset, done) from a fetch stream.
// User text only ever goes into the DOM as textContent; the only HTML put in
// is the server's rendered answer (markdown-it with raw HTML off).
(() => {
  "use strict";

  const MAX_MESSAGES = 20; // the API takes at most 50; the last few are plenty for follow-ups
  const MAX_ASSISTANT_CHARS = 1500; // the API caps every message at 2000 characters
  const FILTER_NAMES = ["company", "difficulty", "tag", "bank"];

  const $ = (selector) => document.querySelector(selector);
  const conversation = $("#conversation");
  const empty = $("#empty");
  const composer = $("#composer");
  const input = $("#message");
  const sendButton = $("#send");
  const stopButton = $("#stop");
  const filterForm = $("#filter-form");
  const filterCount = $("#filter-count");
  const announce = $("#announce");

  let history = [];
  let controller = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- filters ------------------------------------------------------------

  async function loadFacets(attempt = 0) {
    let response;
    try {
      response = await fetch("/api/facets", { headers: { Accept: "application/json" } });
    } catch {
      return; // offline: the filters stay at "any"
    }
    if (response.status === 503 && attempt < 60) {
      setTimeout(() => loadFacets(attempt + 1), 2000);
      return;
    }
    if (!response.ok) return;
    const facets = await response.json();
    const lists = { company: facets.companies, difficulty: facets.difficulties, tag: facets.tags, bank: facets.banks };
    for (const name of FILTER_NAMES) {
      const select = filterForm.elements[name];
      for (const { value, count } of lists[name]) select.add(new Option(`${value} (${count})`, value));
    }
  }

  function currentFilters() {
    const filters = {};
    for (const name of FILTER_NAMES) {
      const value = filterForm.elements[name].value;
      if (value) filters[name] = value;
    }
    return filters;
  }

  function showFilterCount() {
    const n = Object.keys(currentFilters()).length;
    filterCount.textContent = n ? `${n} active` : "";
    filterCount.hidden = n === 0;
  }

  // --- the conversation ---------------------------------------------------

  function scrollToEnd() {
    window.scrollTo({ top: document.body.scrollHeight });
  }

  function addUserMessage(text) {
    const article = el("article", "msg user");
    article.append(el("div", "bubble", text));
    conversation.append(article);
  }

  function addAssistantMessage(question) {
    const article = el("article", "msg assistant");
    article.setAttribute("aria-busy", "true");
    article.setAttribute("aria-label", "Answer");
    const card = el("div", "card");
    const body = el("div", "answer markdown streaming");
    card.append(body);
    article.append(card);
    conversation.append(article);
    return { question, article, card, body, text: "", sources: [], done: false };
  }

  function sourceList(sources) {
    const section = el("section", "sources");
    section.append(el("h2", "", "Sources"));
    const list = el("ol");
    for (const source of sources) {
      const item = el("li");
      const link = el("a", "", source.title);
      link.href = `/q/${encodeURIComponent(source.id)}`;
      link.target = "_blank";
      link.rel = "noopener";
      const meta = el("span", "meta");
      if (source.difficulty) {
        meta.append(el("span", `badge difficulty difficulty-${source.difficulty.toLowerCase()}`, source.difficulty));
      }
      if (source.kind === "quick_reference") meta.append(el("span", "badge kind", "Quick reference"));
      if (source.companies.length) meta.append(el("span", "companies", source.companies.join(", ")));
      item.append(link, meta);
      list.append(item);
    }
    section.append(list);
    return section;
  }

  function showSources(turn) {
    turn.card.querySelector(".sources")?.remove();
    if (turn.sources.length) turn.card.append(sourceList(turn.sources));
  }

  const THUMB_UP =
    "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3";
  const THUMB_DOWN =
    "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17";

  // A thumb icon drawn in SVG, so it shows even where no emoji font is installed.
  function thumb(up) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", up ? THUMB_UP : THUMB_DOWN);
    svg.append(path);
    return svg;
  }

  function feedbackBar(turn, final) {
    const bar = el("div", "feedback");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Was this answer helpful?");
    const status = el("span", "feedback-status");
    status.setAttribute("role", "status");
    const buttons = [
      [true, "👍", "Helpful"],
      [false, "👎", "Not helpful"],
    ].map(([helpful, icon, label]) => {
      const button = el("button", "vote");
      button.append(thumb(helpful), el("span", "visually-hidden", icon));
      button.type = "button";
      button.dataset.helpful = String(helpful);
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", () => sendFeedback(turn, final, helpful, button, buttons, status));
      return button;
    });
    bar.append(el("span", "", "Helpful?"), ...buttons, status);
    return bar;
  }

  async function sendFeedback(turn, final, helpful, button, buttons, status) {
    for (const b of buttons) b.disabled = true;
    try {
      const response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          message_id: final.message_id,
          query: turn.question.slice(0, 2000),
          question_id: final.sources[0].id,
          helpful,
          source: "web",
        }),
      });
      if (!response.ok) throw new Error(await errorDetail(response));
      button.setAttribute("aria-pressed", "true");
      status.textContent = "Thanks for the feedback.";
    } catch (error) {
      for (const b of buttons) b.disabled = false;
      status.textContent = `Feedback not saved: ${error.message}`;
    }
  }

  function abridged(markdown) {
    if (markdown.length <= MAX_ASSISTANT_CHARS) return markdown;
    const cut = markdown.lastIndexOf("\n", MAX_ASSISTANT_CHARS);
    return markdown.slice(0, cut > 0 ? cut : MAX_ASSISTANT_CHARS);
  }

  function finish(turn, final) {
    turn.done = true;
    turn.article.removeAttribute("aria-busy");
    turn.body.classList.remove("streaming");
    if (typeof final.answer_html === "string") {
      turn.body.innerHTML = final.answer_html;
    } else {
      turn.body.textContent = final.answer;
    }
    for (const link of turn.body.querySelectorAll("a[href]")) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    if (final.rewritten_query && final.rewritten_query.trim() !== turn.question.trim()) {
      turn.card.prepend(el("p", "rewritten", `Searched for: ${final.rewritten_query}`));
    }
    if (final.abstained) {
      turn.article.classList.add("abstained");
      const note = el("p", "notice abstain-note");
      note.setAttribute("role", "note");
      note.append(el("strong", "", "Not covered by the question bank"));
      turn.card.prepend(note);
    } else {
      turn.sources = final.sources;
      showSources(turn);
      if (final.sources.length) turn.card.append(feedbackBar(turn, final));
    }
    history.push({ role: "assistant", content: abridged(final.answer) });
    const heading = turn.body.querySelector("h3")?.textContent;
    announce.textContent = final.abstained ? "Not covered by the question bank." : `Answer ready: ${heading ?? ""}`;
    turn.article.previousElementSibling?.scrollIntoView({ block: "start" });
  }

  function stopped(turn) {
    if (!turn.article.isConnected) return;
    turn.article.removeAttribute("aria-busy");
    turn.card.append(el("p", "status-line", "Stopped."));
    if (turn.text.trim()) history.push({ role: "assistant", content: abridged(turn.text) });
  }

  function failed(turn, message) {
    turn.article.removeAttribute("aria-busy");
    turn.body.classList.remove("streaming");
    if (!turn.text) turn.body.textContent = "";
    const line = el("p", "status-line error", message);
    line.setAttribute("role", "alert");
    turn.card.append(line);
  }

  function handle(turn, event, data) {
    if (!turn.article.isConnected) return; // a new conversation was started meanwhile
    if (event === "sources") {
      turn.sources = data.sources;
      showSources(turn);
    } else if (event === "delta") {
      turn.text += data.text;
      turn.body.textContent = turn.text;
    } else if (event === "reset") {
      turn.text = "";
      turn.body.textContent = "";
    } else if (event === "done") {
      finish(turn, data);
      return;
    }
    scrollToEnd();
  }

  async function readEvents(stream, onEvent) {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }

  async function errorDetail(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
      if (Array.isArray(body.detail) && body.detail[0]?.msg) return body.detail[0].msg;
    } catch {
      // not JSON: fall through to the status line
    }
    return `the server answered ${response.status}`;
  }

  function setBusy(busy) {
    sendButton.hidden = busy;
    stopButton.hidden = !busy;
  }

  async function ask(rawText) {
    const text = rawText.trim();
    if (!text || controller) return;
    input.value = "";
    autosize();
    empty.hidden = true;
    addUserMessage(text);
    const turn = addAssistantMessage(text);
    history.push({ role: "user", content: text });
    scrollToEnd();
    const filters = currentFilters();
    controller = new AbortController();
    setBusy(true);
    try {
      const response = await fetch("/api/chat/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({
          messages: history.slice(-MAX_MESSAGES),
          filters: Object.keys(filters).length ? filters : null,
        }),
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(await errorDetail(response));
      await readEvents(response.body, (event, data) => handle(turn, event, data));
      if (!turn.done) failed(turn, "The answer was cut off; ask again.");
    } catch (error) {
      if (error.name === "AbortError") stopped(turn);
      else failed(turn, `Sorry, that failed: ${error.message}`);
    } finally {
      controller = null;
      setBusy(false);
      input.focus({ preventScroll: true });
      if (!turn.done) scrollToEnd();
    }
  }

  function newConversation() {
    controller?.abort();
    history = [];
    for (const message of conversation.querySelectorAll(".msg")) message.remove();
    empty.hidden = false;
    input.value = "";
    autosize();
    input.focus();
  }

  function autosize() {
    input.style.height = "";
    if (!input.value) return; // one row; the placeholder must not size the box
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
  }

  // --- wiring -------------------------------------------------------------

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(input.value);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    } else if (event.key === "Escape" && controller) {
      controller.abort();
    }
  });
  input.addEventListener("input", autosize);
  stopButton.addEventListener("click", () => controller?.abort());
  $("#new-chat").addEventListener("click", newConversation);
  conversation.addEventListener("click", (event) => {
    const chip = event.target.closest("button.example");
    if (chip) ask(chip.textContent);
  });
  filterForm.addEventListener("change", showFilterCount);
  filterForm.addEventListener("reset", () => setTimeout(showFilterCount));

  const preset = new URLSearchParams(window.location.search).get("q");
  if (preset) input.value = preset.slice(0, 2000);
  autosize();
  input.focus();
  loadFacets();
})();
