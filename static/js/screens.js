// Behaviour every screen shares, from a file: the Content-Security-Policy runs no
// inline script or handler (onchange="..."), so markup asks for it with attributes.
(function () {
  "use strict";
  // <select data-submit-on-change>: choosing an option submits its form (the
  // store switch); without JavaScript, the form's own button does.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-submit-on-change]") && field.form) {
      field.form.requestSubmit();
    }
  });

  // <form data-confirm="What happens" data-confirm-yes="Cancel 2 units">: asked in
  // the page's <dialog id="confirm"> before the form goes (a plain post or HTMX).
  // "Go back" has the focus, Escape goes back too; only the named button goes on.
  // Listening in the capture phase runs before HTMX's own submit handler.
  var confirmed = new WeakSet();
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-confirm]")) return;
      if (confirmed.has(form)) {
        confirmed.delete(form);
        return;
      }
      var dialog = document.getElementById("confirm");
      if (!dialog || !dialog.showModal) return; // no dialog: the form goes as it is
      event.preventDefault();
      event.stopImmediatePropagation();
      var submitter = event.submitter || null;
      document.getElementById("confirm-text").textContent = form.dataset.confirm;
      document.getElementById("confirm-yes").textContent = form.dataset.confirmYes || "Yes";
      dialog.returnValue = "";
      dialog.addEventListener(
        "close",
        function () {
          if (dialog.returnValue === "yes") {
            confirmed.add(form);
            form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
          } else if (submitter) {
            submitter.focus();
          }
        },
        { once: true }
      );
      dialog.showModal();
    },
    true
  );
})();
