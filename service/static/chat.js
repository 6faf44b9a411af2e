// The chat page.  Posts the conversation to /api/chat/stream with
// render: "html" and shows the Server-Sent Events as they come: sources, the
// answer's blocks already rendered (block; tail, the block still being
// written), reset, and done, whose answer_html is the final word.  The page
// never receives markdown, so none can show.
//
// The conversation survives: finished turns are kept in localStorage (a
// reload restores them), "Share" makes a link (/?c=...: the questions and
// their filters; the server answers them again), and a question that failed
// or was stopped stays with a Retry button.  The same page works without
// this script: the form submits to the server, which renders the answers.
//
// User text only ever goes into the DOM as textContent; the only HTML put in
// is the server's rendered answer (markdown-it with raw HTML off), also when
// it comes back from localStorage.
(() => {
  "use strict";

  const MAX_MESSAGES = 20; // the API takes at most 50; the last few are plenty for follow-ups
  const MAX_ASSISTANT_CHARS = 1500; // the API caps every message at 2000 characters
  const MAX_KEPT_TURNS = 12; // what a link holds (service/share.py MAX_TURNS); storage keeps as many
  const MAX_LINK_CHARS = 8000; // service/share.py MAX_LINK_CHARS
  const STORAGE_KEY = "qbank.chat.v1";
  const FILTERS = { company: "Company", difficulty: "Difficulty", tag: "Topic", bank: "Bank" };

  const $ = (selector) => document.querySelector(selector);
  const conversation = $("#conversation");
  const empty = $("#empty");
  const composer = $("#composer");
  // The page scrolls what gets focus into view above the sticky composer, not under it (a
  // 👎's reason panel, a link in the last answer): its height, kept as the composer grows.
  const composerBar = document.querySelector(".composer-bar");
  if (composerBar && "ResizeObserver" in window) {
    new ResizeObserver(() => {
      document.documentElement.style.setProperty("--composer-h", `${composerBar.offsetHeight}px`);
    }).observe(composerBar);
  }
  const input = $("#message");
  const sendButton = $("#send");
  const stopButton = $("#stop");
  const filterCount = $("#filter-count");
  const chips = $("#filter-chips");
  const announce = $("#announce");
  const shareButton = $("#share");
  const sharePanel = $("#share-panel");
  const shareLink = $("#share-link");
  const shareStatus = $("#share-status");

  let turns = []; // the finished turns: { question, filters, final } (final: the done event's fields)
  let controller = null;
  let keep = true; // false while showing a shared conversation the visitor has not continued

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- filters: selects in the <details>, and chips above the composer ----

  const select = (name) => composer.elements[name];

  async function loadFacets(attempt = 0) {
    if (select("company").options.length > 1) return; // the server rendered them
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
    for (const name of Object.keys(FILTERS)) {
      const chosen = select(name).value;
      for (const { value, count } of lists[name]) {
        if (value !== chosen) select(name).add(new Option(`${value} (${count})`, value));
      }
    }
  }

  function currentFilters() {
    const filters = {};
    for (const name of Object.keys(FILTERS)) {
      const value = select(name).value;
      if (value) filters[name] = value;
    }
    return filters;
  }

  function setFilters(filters) {
    for (const name of Object.keys(FILTERS)) {
      const value = typeof filters[name] === "string" ? filters[name] : "";
      const box = select(name);
      if (value && ![...box.options].some((o) => o.value === value)) box.add(new Option(value, value));
      box.value = value;
    }
    showFilters();
  }

  function filterText(filters) {
    return Object.entries(filters)
      .map(([name, value]) => `${FILTERS[name]} ${value}`)
      .join(" · ");
  }

  function showFilters() {
    const filters = currentFilters();
    const n = Object.keys(filters).length;
    filterCount.textContent = n ? `${n} active` : "";
    filterCount.hidden = n === 0;
    $("#clear-filters").hidden = n === 0;
    chips.replaceChildren();
    for (const [name, value] of Object.entries(filters)) {
      const chip = el("button", "chip filter-chip");
      chip.type = "button";
      chip.dataset.filter = name;
      chip.setAttribute("aria-label", `Remove filter ${FILTERS[name]}: ${value}`);
      chip.append(el("span", "", `${FILTERS[name]}: ${value}`), el("span", "remove", "×"));
      chip.lastChild.setAttribute("aria-hidden", "true");
      chips.append(chip);
    }
    chips.hidden = n === 0;
  }

  function removeFilter(chip) {
    const next = chip.nextElementSibling || chip.previousElementSibling;
    select(chip.dataset.filter).value = "";
    filtersChanged();
    announce.textContent = `Filter removed: ${chip.textContent.replace("×", "").trim()}`;
    const focusable = next && chips.querySelector(`[data-filter="${next.dataset.filter}"]`);
    (focusable || input).focus();
  }

  function filtersChanged() {
    showFilters();
    save();
  }

  // --- keeping the conversation -------------------------------------------

  function save() {
    if (!keep) return;
    let kept = turns.slice(-MAX_KEPT_TURNS);
    for (;;) {
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify({ turns: kept, filters: currentFilters() }));
        return;
      } catch {
        if (!kept.length) return; // storage is off or full: the page still works, it just forgets
        kept = kept.slice(1);
      }
    }
  }

  function validTurn(turn) {
    return (
      turn &&
      typeof turn.question === "string" &&
      turn.filters &&
      typeof turn.filters === "object" &&
      turn.final &&
      typeof turn.final.answer_html === "string" &&
      typeof turn.final.answer === "string" &&
      Array.isArray(turn.final.sources)
    );
  }

  function restored() {
    const data = $("#conversation-data");
    if (data) {
      keep = false; // a shared link: shown, and only kept once the visitor asks something
      return JSON.parse(data.textContent);
    }
    try {
      return JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    } catch {
      return null;
    }
  }

  function kept(final) {
    const sources = final.sources.map(({ id, title, kind, difficulty, companies }) => ({
      id,
      title,
      kind,
      difficulty,
      companies,
    }));
    const { kind, answer, abstained, rewritten_query, message_id, generated_by, answer_html } = final;
    return {
      kind,
      answer: abridged(answer),
      abstained,
      rewritten_query,
      message_id,
      generated_by,
      answer_html,
      sources,
      vote: typeof final.vote === "boolean" ? final.vote : undefined, // this browser's 👍/👎, shown again on reload
    };
  }

  // --- sharing --------------------------------------------------------------

  function encoded(list) {
    const data = list.map((t) => (Object.keys(t.filters).length ? { q: t.question, f: t.filters } : { q: t.question }));
    const bytes = new TextEncoder().encode(JSON.stringify(data));
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function share() {
    let list = turns.slice(-MAX_KEPT_TURNS);
    let token = encoded(list);
    while (token.length > MAX_LINK_CHARS && list.length > 1) {
      list = list.slice(1);
      token = encoded(list);
    }
    shareLink.value = `${window.location.origin}/?c=${token}`;
    sharePanel.hidden = false;
    shareButton.setAttribute("aria-expanded", "true");
    const partial = list.length < turns.length ? ` It holds the last ${list.length} questions.` : "";
    shareStatus.textContent = `Anyone with the link sees these questions answered from the bank.${partial}`;
    shareLink.focus();
    shareLink.select();
  }

  async function copyLink() {
    try {
      await navigator.clipboard.writeText(shareLink.value);
      shareStatus.textContent = "Link copied.";
    } catch {
      shareLink.select();
      shareStatus.textContent = "Copy the selected link (Ctrl+C or ⌘C).";
    }
  }

  function closeShare() {
    sharePanel.hidden = true;
    shareButton.setAttribute("aria-expanded", "false");
    shareButton.focus();
  }

  function showShare() {
    shareButton.hidden = turns.length === 0;
    if (turns.length === 0) sharePanel.hidden = true;
  }

  // --- the conversation ---------------------------------------------------

  function scrollToEnd() {
    window.scrollTo({ top: document.body.scrollHeight });
  }

  function addTurn(question, filters) {
    const user = el("article", "msg user");
    user.append(el("div", "bubble", question));
    const article = el("article", "msg assistant");
    article.setAttribute("aria-label", "Answer");
    const card = el("div", "card");
    const body = el("div", "answer markdown streaming");
    card.append(body);
    article.append(card);
    conversation.append(user, article);
    return { question, filters, user, article, card, body, blocks: [], tail: [], sources: [], done: false };
  }

  // Show `html` as block `index`, dropping what was shown from there on.
  function place(view, index, html) {
    for (const nodes of view.blocks.splice(index)) for (const node of nodes) node.remove();
    for (const node of view.tail) node.remove();
    view.tail = [];
    const template = document.createElement("template");
    template.innerHTML = html;
    const nodes = [...template.content.childNodes];
    view.body.append(...nodes);
    return nodes;
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
      item.append(link, " ", meta);
      list.append(item);
    }
    section.append(list);
    return section;
  }

  function showSources(view, sources) {
    view.card.querySelector(".sources")?.remove();
    if (sources.length) view.card.append(sourceList(sources));
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

  function feedbackBar(question, final) {
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
      button.setAttribute("aria-pressed", String(final.vote === helpful));
      button.addEventListener("click", () => sendFeedback(question, final, helpful, button, buttons, status));
      return button;
    });
    bar.append(el("span", "", "Helpful?"), ...buttons, status);
    return bar;
  }

  // A vote can be changed: the server keeps one per learner and message, the last.
  async function sendFeedback(question, final, helpful, button, buttons, status) {
    if (final.vote === helpful) return; // already this vote
    for (const b of buttons) b.disabled = true;
    try {
      const response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          message_id: final.message_id,
          query: (final.rewritten_query || question).slice(0, 2000), // what was searched: a follow-up's own words are not
          question_id: final.sources[0].id,
          helpful,
          source: "web",
        }),
      });
      if (!response.ok) throw new Error(await errorDetail(response));
      final.vote = helpful;
      const turn = turns.find((t) => t.final.message_id === final.message_id);
      if (turn) {
        turn.final.vote = helpful;
        save();
      }
      for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
      status.textContent = "Thanks for the feedback.";
      const bar = button.closest(".feedback");
      if (bar.nextElementSibling?.classList.contains("feedback-reason")) bar.nextElementSibling.remove();
      if (!helpful) bar.after(reasonForm(question, final, status));
    } catch (error) {
      status.textContent = `Feedback not saved: ${error.message}`;
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  // After a 👎: why?  The same vote sent again with its reason replaces it
  // (the server keeps one vote per learner and message).  The keys are
  // service/feedback.py REASONS.
  const REASONS = {
    wrong_question: "Answered a different question",
    incomplete: "Incomplete",
    outdated: "Outdated or wrong",
    other: "Something else",
  };
  let reasonForms = 0;

  function reasonForm(question, final, status) {
    const form = el("form", "feedback-reason");
    const fieldset = el("fieldset");
    fieldset.append(el("legend", "", "What was wrong with it?"));
    const id = `reason-${++reasonForms}`;
    for (const [value, label] of Object.entries(REASONS)) {
      const choice = el("label", "reason-choice");
      const radio = el("input");
      radio.type = "radio";
      radio.name = id;
      radio.value = value;
      choice.append(radio, el("span", "", label));
      fieldset.append(choice);
    }
    const commentLabel = el("label", "reason-comment");
    const comment = el("textarea");
    comment.rows = 2;
    comment.maxLength = 2000;
    comment.placeholder = "What did you expect? (optional)";
    commentLabel.append(el("span", "visually-hidden", "Comment"), comment);
    const send = el("button", "", "Send reason");
    send.type = "submit";
    const skip = el("button", "", "Skip");
    skip.setAttribute("aria-label", "Skip: the 👎 is saved without a reason");
    skip.type = "button";
    const error = el("p", "reason-error");
    error.setAttribute("role", "alert");
    const actions = el("div", "reason-actions");
    actions.append(send, skip);
    fieldset.append(commentLabel, actions, error);
    form.append(fieldset);
    const close = () => {
      form.remove();
      status.setAttribute("tabindex", "-1");
      status.focus(); // the thanks, in place of the form: the keyboard stays where it was
    };
    skip.addEventListener("click", close);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = form.elements[id].value || (comment.value.trim() ? "other" : "");
      if (!reason) {
        error.textContent = "Pick a reason or write a comment, or press Skip.";
        form.querySelector("input").focus();
        error.scrollIntoView({ block: "nearest" });
        return;
      }
      send.disabled = true;
      error.textContent = "";
      try {
        const response = await fetch("/api/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            message_id: final.message_id,
            query: (final.rewritten_query || question).slice(0, 2000), // what was searched: a follow-up's own words are not
            question_id: final.sources[0].id,
            helpful: false,
            source: "web",
            reason,
            comment: comment.value.trim().slice(0, 2000) || null,
          }),
        });
        if (!response.ok) throw new Error(await errorDetail(response));
        status.textContent = `Thanks: noted as "${REASONS[reason]}".`;
        close();
      } catch (err) {
        send.disabled = false; // the choice and the comment stay for another try
        error.textContent = `Not saved: ${err.message}`;
        send.focus();
        error.scrollIntoView({ block: "nearest" });
      }
    });
    queueMicrotask(() => {
      form.querySelector("input").focus();
      form.scrollIntoView({ block: "nearest" }); // the whole panel, its question and buttons too
    });
    return form;
  }

  function abridged(markdown) {
    if (markdown.length <= MAX_ASSISTANT_CHARS) return markdown;
    const cut = markdown.lastIndexOf("\n", MAX_ASSISTANT_CHARS);
    return markdown.slice(0, cut > 0 ? cut : MAX_ASSISTANT_CHARS);
  }

  // The finished answer, from the done event or from a kept turn.
  function show(view, final) {
    view.done = true;
    view.article.removeAttribute("aria-busy");
    view.body.classList.remove("streaming");
    view.body.innerHTML = final.answer_html;
    view.blocks = [];
    view.tail = [];
    for (const link of view.body.querySelectorAll("a[href]")) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    const notes = [];
    if (final.abstained) {
      view.article.classList.add("abstained");
      const note = el("p", "notice abstain-note");
      note.setAttribute("role", "note");
      note.append(el("strong", "", "Not covered by the question bank"));
      notes.push(note);
    }
    if (final.rewritten_query && final.rewritten_query.trim() !== view.question.trim()) {
      notes.push(el("p", "rewritten", `Searched for: ${final.rewritten_query}`));
    }
    if (Object.keys(view.filters).length) {
      notes.push(el("p", "rewritten used-filters", `Filtered to: ${filterText(view.filters)}`));
    }
    view.card.prepend(...notes);
    if (!final.abstained) {
      showSources(view, final.sources);
      if (final.sources.length) view.card.append(feedbackBar(view.question, final));
    }
  }

  function finish(view, final) {
    show(view, final);
    turns.push({ question: view.question, filters: view.filters, final: kept(final) });
    save();
    showShare();
    input.placeholder = "Ask a follow-up…";
    const heading = view.body.querySelector("h3")?.textContent;
    announce.textContent = final.abstained
      ? "Not covered by the question bank."
      : final.kind === "reply"
        ? view.body.querySelector("p")?.textContent ?? ""
        : `Answer ready: ${heading ?? ""}`;
    view.user.scrollIntoView({ block: "start" });
  }

  // A question that got no answer: it stays, with what went wrong and a Retry.
  function failed(view, message) {
    if (!view.article.isConnected) return;
    view.failed = true;
    view.article.removeAttribute("aria-busy");
    view.article.classList.add("failed");
    view.body.classList.remove("streaming");
    const line = el("p", "status-line error", message);
    line.setAttribute("role", "alert");
    const retry = el("button", "retry secondary small", "Retry");
    retry.type = "button";
    retry.setAttribute("aria-label", `Retry: ${view.question}`);
    retry.addEventListener("click", () => {
      if (controller) return;
      if (input.value.trim() === view.question) input.value = "";
      ask(view.question);
    });
    view.card.append(line, retry);
    if (!input.value.trim()) {
      input.value = view.question; // kept, to edit and send again
      autosize();
    }
  }

  function handle(view, event, data) {
    if (!view.article.isConnected) return; // a new conversation was started meanwhile
    if (event === "sources") {
      showSources(view, data.sources);
    } else if (event === "block") {
      view.blocks.push(place(view, data.index, data.html));
    } else if (event === "tail") {
      view.tail = place(view, data.index, data.html);
    } else if (event === "reset") {
      place(view, 0, "");
    } else if (event === "done") {
      finish(view, data);
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

  function messagesFor(question) {
    const earlier = turns.flatMap((t) => [
      { role: "user", content: t.question },
      { role: "assistant", content: abridged(t.final.answer) },
    ]);
    return [...earlier, { role: "user", content: question }].slice(-MAX_MESSAGES);
  }

  function continueHere() {
    if (keep) return;
    keep = true; // the visitor continues a shared conversation: from now on it is theirs
    window.history.replaceState(null, "", "/");
  }

  async function ask(rawText) {
    const text = rawText.trim();
    if (!text || controller) return;
    continueHere();
    for (const gone of conversation.querySelectorAll(".msg.failed")) {
      gone.previousElementSibling?.remove(); // its question
      gone.remove();
    }
    if (input.value.trim() === text || rawText === input.value) input.value = "";
    autosize();
    empty.hidden = true;
    $("#conversation-links")?.remove();
    const filters = currentFilters();
    const view = addTurn(text, filters);
    view.article.setAttribute("aria-busy", "true");
    scrollToEnd();
    controller = new AbortController();
    setBusy(true);
    try {
      const response = await fetch("/api/chat/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-Qbank-Surface": "web" },
        body: JSON.stringify({
          messages: messagesFor(text),
          filters: Object.keys(filters).length ? filters : null,
          render: "html",
        }),
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(await errorDetail(response));
      await readEvents(response.body, (event, data) => handle(view, event, data));
      if (!view.done) failed(view, "The answer was cut off.");
    } catch (error) {
      if (error.name === "AbortError") failed(view, "Stopped.");
      else failed(view, `Sorry, that failed: ${error.message}`);
    } finally {
      controller = null;
      setBusy(false);
      input.focus({ preventScroll: true });
      if (!view.done) scrollToEnd();
    }
  }

  function newConversation() {
    controller?.abort();
    turns = [];
    keep = true;
    window.history.replaceState(null, "", "/");
    for (const message of conversation.querySelectorAll(".msg")) message.remove();
    $("#conversation-links")?.remove();
    empty.hidden = false;
    input.value = "";
    input.placeholder = "Ask an interview question…";
    composer.querySelector("input[name=c]")?.remove();
    save();
    showShare();
    autosize();
    input.focus();
  }

  function autosize() {
    input.style.height = "";
    if (!input.value) return; // one row; the placeholder must not size the box
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
  }

  function restore() {
    const data = restored();
    if (!data || !Array.isArray(data.turns)) return;
    turns = data.turns.filter(validTurn).slice(-MAX_KEPT_TURNS);
    for (const message of conversation.querySelectorAll(".msg")) message.remove(); // the server's copy
    $("#conversation-links")?.remove();
    for (const turn of turns) show(addTurn(turn.question, turn.filters), turn.final);
    empty.hidden = turns.length > 0;
    if (keep && data.filters && typeof data.filters === "object") setFilters(data.filters);
    if (turns.length) input.placeholder = "Ask a follow-up…";
  }

  // --- wiring -------------------------------------------------------------

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const example = event.submitter?.name === "ask" ? event.submitter.value : null;
    ask(example ?? input.value);
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
  stopButton.addEventListener("click", (event) => {
    // Stop appears where Send was: the second click of a double-click on Send lands on it.
    // A click that is part of a multi-click is that, not a request to stop.
    if (event.detail > 1) return;
    controller?.abort();
  });
  $("#new-chat").addEventListener("click", newConversation);
  $("#clear-filters").addEventListener("click", () => {
    setFilters({});
    save();
  });
  for (const name of Object.keys(FILTERS)) select(name).addEventListener("change", filtersChanged);
  chips.addEventListener("click", (event) => {
    const chip = event.target.closest("button.filter-chip");
    if (chip) removeFilter(chip);
  });
  shareButton.addEventListener("click", () => (sharePanel.hidden ? share() : closeShare()));
  $("#share-copy").addEventListener("click", copyLink);
  $("#share-close").addEventListener("click", closeShare);
  sharePanel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeShare();
  });

  $("#hint").hidden = false; // what only works with this script is hidden without it
  $("#new-chat").hidden = false;
  restore();
  showFilters();
  showShare();
  autosize();
  if (turns.length) scrollToEnd();
  input.focus({ preventScroll: true });
  loadFacets();
})();
