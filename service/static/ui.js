// Shared by every page: the copy button on code blocks, and filter selects
// that submit their form when changed.
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

  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.matches("select")) form.requestSubmit();
  });
})();
