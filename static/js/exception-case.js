// The exception case screen (templates/reconciliation/_case.html).
// Resolving with "Stock adjusted" shows the adjustment, pre-filled with the
// difference the case's facts point to, and asks before it is posted: the form's
// data-confirm (read by screens.js when the form is sent) says the number, the SKU
// and the store, e.g. "Post -2 of TEE-BLK-M at Oxford Street to the ledger?".
// Any other resolution neither shows the field nor asks.
// After an action the panel is swapped whole: the focus goes to the field that was
// refused, or to the result, so a keyboard carries on from where it was.
(function () {
  var RESOLVE = "form[data-adjust-confirm]";

  function sync(form) {
    var adjust = form.querySelector("[data-adjust]");
    var field = form.elements.adjustment;
    if (!adjust || !field) return;
    var chosen = form.elements.resolution.value === "stock_adjusted";
    adjust.hidden = !chosen;
    field.disabled = !chosen; // units go only with a stock adjustment
    var typed = field.value.trim();
    var units = /^[-+]?\d+$/.test(typed) ? parseInt(typed, 10) : 0;
    if (chosen && units) {
      var signed = (units > 0 ? "+" : "") + units;
      form.dataset.confirm = form.dataset.adjustConfirm.replace("{units}", signed);
      form.dataset.confirmYes = form.dataset.adjustYes.replace("{units}", signed);
    } else {
      // Nothing to post (or not a whole number): the server's message says why.
      delete form.dataset.confirm;
      delete form.dataset.confirmYes;
    }
  }

  function syncAll() {
    document.querySelectorAll(RESOLVE).forEach(sync);
  }

  function follow(event) {
    var form = event.target.form;
    if (form && form.matches(RESOLVE)) sync(form);
  }

  document.addEventListener("change", follow);
  document.addEventListener("input", follow);
  document.addEventListener("DOMContentLoaded", syncAll);
  document.addEventListener("htmx:afterSwap", function (event) {
    syncAll();
    // Only an action's answer (the whole panel) moves the focus; a refresh of the
    // facts or the timeline never does.
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "case") return;
    var panel = document.getElementById("case");
    if (!panel) return;
    var here = panel.querySelector("[aria-invalid=true]") || panel.querySelector("[data-focus-here]");
    if (here) here.focus();
  });
})();
