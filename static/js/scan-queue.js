// A blind count's scans (templates/reconciliation/count.html). A scanner types a
// barcode and presses Enter, often faster than the server answers: each scan on the
// form marked data-scan-queue="#target" goes through the page's one scan queue
// (screens.js, Screens.sendInTurn): sent in turn, in order, the field cleared at once
// for the next one, so no scan is lost or sent twice. An empty Enter sends nothing.
// The field keeps the focus: after a scan, and after a correction typed in the list.
// Finishing (a form marked data-after-scans) waits for the scans still on their way,
// then goes as the swapped-in list has it: the question it asks (screens.js's
// data-confirm, "2 of 3 items not scanned ...") counts every scan made.
// Without JavaScript the forms post as usual and the page comes back whole.
(function () {
  "use strict";

  function swap(selector, html) {
    const current = document.querySelector(selector);
    if (!current) return;
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const fresh = holder.firstElementChild;
    if (!fresh || "#" + fresh.id !== selector) {
      said("The count's answer was not understood: reload the page, then scan it again.");
      return;
    }
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  function said(text) {
    const messages = document.getElementById("messages");
    if (!messages) return;
    messages.innerHTML = '<p class="flash error" role="alert"></p>';
    messages.firstChild.textContent = text;
  }

  function scanField() {
    return document.querySelector("form[data-scan-queue] [name=code]");
  }

  // Window, capture phase: before screens.js (document, capture) asks its question,
  // so it asks about the list as it will be once the scans on their way land.
  window.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      if (!form.matches || !form.matches("form[data-after-scans]") || Screens.pending() === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const id = form.id;
      Screens.afterScans().then(function () {
        const fresh = (id && document.getElementById(id)) || form;
        if (fresh.isConnected) fresh.requestSubmit();
      });
    },
    true
  );

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches && form.matches("form[data-after-scans]")) {
      // Sent once (screens.js refuses a second press): posted when the scans land.
      if (event.defaultPrevented) return;
      event.preventDefault();
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      Screens.afterScans().then(function () { form.submit(); });
      return;
    }
    if (!form.matches || !form.matches("form[data-scan-queue]")) return;
    event.preventDefault();
    const target = form.dataset.scanQueue;
    const code = form.elements.code;
    code.focus();
    if (!code.value.trim()) return; // a stray Enter: nothing was scanned
    const body = new FormData(form);
    code.value = "";
    if (form.elements.quantity) form.elements.quantity.value = "1";
    Screens.sendInTurn(form, body, {
      target: target.replace("#", ""),
      what: "The count",
      answered: function (html) { swap(target, html); },
      failed: said,
    });
  });

  // A correction typed in the list (htmx swaps the list): back to the scanner's field.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail && event.detail.target;
    const field = scanField();
    if (field && target && target.id === "count-lines") field.focus();
  });
})();
