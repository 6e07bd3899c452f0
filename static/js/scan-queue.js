// A scanner types a barcode and presses Enter, often faster than the server answers.
// Each scan on a form marked data-scan-queue="#target" is sent in turn, in order, and
// the field is cleared at once for the next one, so no scan is lost or sent twice.
// The field keeps the focus: after a scan, and after a correction typed in the list.
// Finishing (a form marked data-after-scans) waits for the scans still on their way,
// then goes as the swapped-in list has it: the question it asks (screens.js's
// data-confirm, "2 of 3 items not scanned ...") counts every scan made.
// Without JavaScript the forms post as usual and the page comes back whole.
(function () {
  let queue = Promise.resolve();
  let pending = 0;

  function swap(selector, html) {
    const current = document.querySelector(selector);
    if (!current) return;
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const fresh = holder.firstElementChild;
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
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
      if (!form.matches || !form.matches("form[data-after-scans]") || pending === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const id = form.id;
      queue.then(function () {
        const fresh = (id && document.getElementById(id)) || form;
        if (fresh.isConnected) fresh.requestSubmit();
      });
    },
    true
  );

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches && form.matches("form[data-after-scans]")) {
      // Sent once: a second press (or a scanner's stray Enter) does nothing more.
      event.preventDefault();
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      queue.then(function () { form.submit(); });
      return;
    }
    if (!form.matches || !form.matches("form[data-scan-queue]")) return;
    event.preventDefault();
    const target = form.dataset.scanQueue;
    const body = new FormData(form);
    form.elements.code.value = "";
    if (form.elements.quantity) form.elements.quantity.value = "1";
    form.elements.code.focus();
    pending += 1;
    queue = queue
      .then(function () {
        return fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "HX-Request": "true", "HX-Target": target.replace("#", "") },
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("The count could not be saved (" + response.status + ").");
        return response.text();
      })
      .then(function (html) { swap(target, html); })
      .catch(function (error) {
        // The queue carries on with the next scan.
        const messages = document.getElementById("messages");
        if (messages) messages.innerHTML = '<p class="flash error" role="alert"></p>';
        if (messages) messages.firstChild.textContent = error.message + " Scan it again.";
      })
      .finally(function () { pending -= 1; });
  });

  // A correction typed in the list (htmx swaps the list): back to the scanner's field.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail && event.detail.target;
    const field = scanField();
    if (field && target && target.id === "count-lines") field.focus();
  });
})();
