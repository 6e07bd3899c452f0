// A blind count's scans (templates/reconciliation/count.html). A scanner types a
// barcode and presses Enter, often faster than the server answers: each scan on the
// form marked data-scan-queue="#target" goes through the page's one scan queue
// (screens.js, Screens.sendInTurn): sent in turn, in order, the field cleared at once
// for the next one, so no scan is lost or sent twice. An empty Enter sends nothing.
// What a scan did is said beside the field (role=status). A refused code comes back
// into the field, selected and marked aria-invalid, the moment its answer arrives,
// so the next scan replaces it; unless another scan has been typed or sent since,
// which is never overwritten nor appended to: then only the message says so.
// The field keeps the focus: after a scan, and after a correction typed in the list.
// Finishing (a form marked data-after-scans) waits for the scans still on their way,
// then goes as the swapped-in list has it: the question it asks (screens.js's
// data-confirm, "2 of 3 items not scanned ...") counts every scan made.
// Without JavaScript the forms post as usual and the page comes back whole.
(function () {
  "use strict";

  // The answer's list takes the place of the one on the page; returns it, or null
  // when it is not the list asked for.
  function swap(selector, html) {
    const current = document.querySelector(selector);
    if (!current) return null;
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const fresh = holder.firstElementChild;
    if (!fresh || "#" + fresh.id !== selector) {
      said("The count's answer was not understood: reload the page, then scan it again.");
      return null;
    }
    // A scan's message goes beside the scan field, where the person is, and is read
    // out from there only: taken out of the list before the list is on the page.
    const message = fresh.dataset.scanAnswer ? fresh.querySelector(".flash") : null;
    if (message) message.remove();
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    if (message) {
      Screens.say(scanSaid(), message.textContent, fresh.dataset.scanAnswer === "refused" ? "error" : "success");
    }
    return fresh;
  }

  // A scan that failed on its way (the network, the server, a session that ended).
  function said(text) {
    const beside = scanSaid();
    if (beside) {
      Screens.say(beside, text, "error");
      return;
    }
    const messages = document.getElementById("messages");
    if (!messages) return;
    messages.innerHTML = '<p class="flash error" role="alert"></p>';
    messages.firstChild.textContent = text;
  }

  function scanField() {
    return document.querySelector("form[data-scan-queue] [name=code]");
  }

  function scanSaid() {
    const form = document.querySelector("form[data-scan-queue]");
    return form && form.querySelector("[data-scan-said]");
  }

  // The refused code back in the field, selected, marked: only while nothing else
  // has been typed there nor is still to be answered, so no scan is lost.
  function refused(field, code) {
    if (!field || !field.isConnected || field.value !== "" || Screens.pending() > 0) return;
    field.value = code;
    field.setAttribute("aria-invalid", "true");
    if (document.activeElement === field || document.activeElement === document.body) {
      field.focus();
      field.select();
    }
  }

  // A refused code is selected whenever the field has the focus: on a page posted
  // whole (no queue), and back from a correction typed in the list, the next scan
  // replaces it rather than being added to its end.
  function selectRefused(field) {
    if (field && field.getAttribute("aria-invalid") === "true" && field.value) field.select();
  }
  document.addEventListener("focusin", function (event) {
    if (event.target === scanField()) selectRefused(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    const field = scanField();
    if (field && field.getAttribute("aria-invalid") === "true") {
      field.focus();
      selectRefused(field);
    }
  });

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
    const field = form.elements.code;
    field.focus();
    const code = field.value.trim();
    if (!code) return; // a stray Enter: nothing was scanned
    const body = new FormData(form);
    field.value = "";
    field.removeAttribute("aria-invalid");
    if (form.elements.quantity) form.elements.quantity.value = "1";
    Screens.sendInTurn(form, body, {
      target: target.replace("#", ""),
      what: "The scan of " + code,
      answered: function (html) {
        const fresh = swap(target, html);
        if (fresh && fresh.dataset.scanAnswer === "refused") refused(field, code);
      },
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
