// Shared by every page: the copy button on code blocks, and filter selects
// that submit their form when changed and show the filters in effect after Back.
(() => {
  "use strict";

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) throw new Error("copy was refused");
  }

  function flash(button, label, className) {
    button.textContent = label;
    if (className) button.classList.add(className);
    clearTimeout(button._reset);
    button._reset = setTimeout(() => {
      button.textContent = "Copy";
      button.classList.remove("copied");
    }, 2000);
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const code = button.closest(".code")?.querySelector("pre code");
    if (!code) return;
    try {
      await copyText(code.textContent.replace(/\n$/, ""));
      flash(button, "Copied", "copied");
    } catch {
      flash(button, "Copy failed");
    }
  });

  // A filter form applies a choice made with the mouse or a touch at once.  With the keyboard,
  // arrow keys change a closed select's value (and fire "change") at every step: the choice
  // is applied on Enter or on leaving the select, so a keyboard user can step through the list.
  const autoSelect = (target) =>
    target instanceof HTMLSelectElement && target.closest("form[data-autosubmit]") ? target : null;
  let keyed = null; // the select being browsed with the keyboard
  document.addEventListener("focusin", (event) => {
    const select = autoSelect(event.target);
    if (select) select.dataset.applied = select.value;
  });
  document.addEventListener("keydown", (event) => {
    const select = autoSelect(event.target);
    if (!select) return;
    if (event.key === "Enter") {
      event.preventDefault();
      keyed = null;
      select.form.requestSubmit();
    } else if (event.key !== "Tab") {
      keyed = select;
    }
  });
  document.addEventListener("focusout", (event) => {
    const select = autoSelect(event.target);
    if (select && keyed === select && select.value !== select.dataset.applied) select.form.requestSubmit();
    if (select) keyed = null;
  });
  document.addEventListener("change", (event) => {
    const select = autoSelect(event.target);
    if (select && keyed !== select) select.form.requestSubmit();
  });

  // A filter form's boxes show the filters in effect: the page's address, which the server
  // wrote into the form as its defaults.  After Back or Forward the browser may bring the page
  // back showing what the boxes held when it was left (form restoration), or the whole page as
  // it was (the back-forward cache: "pageshow" with persisted); a choice shown there that is not
  // applied would be applied unseen with the next one.  So every filter form goes back to its
  // defaults on each "pageshow" (a reset fires no "change": nothing is submitted).
  // A script that changes the address without a navigation moves the defaults with it
  // (practice.js, its mock-mode box).
  window.addEventListener("pageshow", () => {
    for (const form of document.querySelectorAll("form[data-autosubmit]")) form.reset();
  });
})();
