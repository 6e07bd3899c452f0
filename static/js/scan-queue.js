// A scanner types a barcode and presses Enter, often faster than the server answers.
// Each scan on a form marked data-scan-queue="#target" is sent in turn, in order, and
// the field is cleared at once for the next one, so no scan is lost or sent twice.
// Without JavaScript the form posts as usual and the page comes back whole.
(function () {
  let queue = Promise.resolve();

  function swap(selector, html) {
    const current = document.querySelector(selector);
    if (!current) return;
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const fresh = holder.firstElementChild;
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches && form.matches("form[data-after-scans]")) {
      // Finishing waits for the scans still on their way, then posts once.
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
      });
  });
})();
