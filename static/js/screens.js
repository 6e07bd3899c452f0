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
})();
