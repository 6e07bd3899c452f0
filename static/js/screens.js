// Behaviour every screen shares, from a file: the Content-Security-Policy runs no
// inline script or handler (onchange="..."), so markup asks for it with attributes.
// What a screen's own file needs of it is on window.Screens: the scan queue
// (sendInTurn, pending), a message beside a field (say), and whether a part of the
// page holds something typed and not sent (unsent).
(function () {
  "use strict";

  // ------------------------------------------------------------ small shared pieces

  // Something typed, chosen or opened in root and not sent yet. Fields marked
  // data-live-keep (a scan field the screen keeps across swaps) do not count.
  function unsent(root) {
    if (!root || !root.querySelectorAll) return false;
    var fields = root.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "hidden" || field.type === "submit" || field.hasAttribute("data-live-keep")) continue;
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked !== field.defaultChecked) return true;
      } else if (field.tagName === "SELECT") {
        // As rendered: the option marked selected, else the first (multiple: each).
        var marked = Array.prototype.some.call(field.options, function (o) { return o.defaultSelected; });
        for (var j = 0; j < field.options.length; j++) {
          var option = field.options[j];
          var wasChosen = marked || field.multiple ? option.defaultSelected : j === 0;
          if (option.selected !== wasChosen) return true;
        }
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    var opened = root.querySelectorAll("details");
    for (var k = 0; k < opened.length; k++) {
      if (opened[k].open !== opened[k].hasAttribute("data-was-open")) return true;
    }
    return false;
  }

  function markDetails(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("details").forEach(function (details) {
      if (details.open) details.setAttribute("data-was-open", "");
      else details.removeAttribute("data-was-open");
    });
  }

  // A message beside a field or a button: class "scan-result error|success", read
  // out by a screen reader through the element's own role (status, or alert).
  function say(element, text, kind) {
    if (!element) return;
    element.className = "scan-result " + (kind || "error");
    element.textContent = text;
  }

  // Scans are sent one at a time, in the order they were made, however fast the
  // scanner types: the field is emptied at once for the next scan, and each answer
  // is handed to answered(html) in turn. A failure (the server, the network, or a
  // session that ended: the answer is the sign-in page) goes to failed(message) and
  // the queue carries on with the next scan.
  var queue = Promise.resolve();
  var pending = 0;

  function sendInTurn(form, body, options) {
    pending += 1;
    queue = queue
      .then(function () {
        return fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "HX-Request": "true", "HX-Target": options.target },
        });
      })
      .then(function (response) {
        if (response.redirected) throw new Error("Signed out: sign in again, then scan it again.");
        if (!response.ok) throw new Error((options.what || "The scan") + " was not saved (" + response.status + "). Scan it again.");
        return response.text();
      })
      .then(function (html) {
        pending -= 1;
        options.answered(html);
      })
      .catch(function (error) {
        pending -= 1;
        options.failed(error.message);
      });
    return queue;
  }

  window.Screens = {
    unsent: unsent,
    say: say,
    sendInTurn: sendInTurn,
    pending: function () { return pending; },
    afterScans: function () { return queue; },
  };

  // <select data-submit-on-change>: choosing an option submits its form (the
  // store switch); without JavaScript, the form's own button does.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-submit-on-change]") && field.form) {
      field.form.requestSubmit();
    }
  });

  // ---------------------------------------------------------------- confirmation

  // <form data-confirm="What happens" data-confirm-yes="Cancel 2 units">: asked in
  // the page's <dialog id="confirm"> before the form goes (a plain post or HTMX),
  // unless a field it needs ([data-needed]) is still empty.
  // "Go back" has the focus, Escape goes back too; only the named button goes on.
  // Listening in the capture phase runs before HTMX's own submit handler. While the
  // question is open no live region is polled, so the form asked about is still the
  // one on the page when the answer comes (looked up again if it was replaced).
  var confirmed = new WeakSet();
  var dialog = null;

  function asking() {
    return !!(dialog && dialog.open);
  }

  function sameForm(form) {
    if (form.isConnected) return form;
    if (form.id) return document.getElementById(form.id);
    var key = form.getAttribute("hx-post") || form.getAttribute("action");
    return Array.prototype.find.call(document.forms, function (other) {
      return (other.getAttribute("hx-post") || other.getAttribute("action")) === key &&
        other.dataset.confirm === form.dataset.confirm;
    }) || null;
  }

  // The question being asked: its form and the button that sent it. One listener
  // answers every question; a close that arrives when the dialog is open again (the
  // browser queues it) belongs to an earlier question and is let go.
  var ask = null;

  function answered() {
    if (!dialog || dialog.open || !ask) return;
    var was = ask;
    ask = null;
    var current = sameForm(was.form);
    if (dialog.returnValue === "yes" && current) {
      var button = null;
      if (was.name) {
        button = Array.prototype.find.call(current.elements, function (el) {
          return el.type === "submit" && el.name === was.name && el.value === was.value;
        }) || null;
      } else if (was.submitter && was.submitter.form === current) {
        button = was.submitter;
      }
      confirmed.add(current);
      current.requestSubmit(button || undefined);
    } else if (was.submitter && was.submitter.isConnected) {
      was.submitter.focus();
    }
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-confirm]")) return;
      if (confirmed.has(form)) {
        confirmed.delete(form);
        return;
      }
      // A field it needs is empty (data-needed): nothing would be done, so nothing
      // is asked; the form goes, and its refusal names each field under it.
      var needed = form.querySelectorAll("[data-needed]");
      if (Array.prototype.some.call(needed, function (field) { return !field.value.trim(); })) return;
      if (!dialog) {
        dialog = document.getElementById("confirm");
        if (dialog) dialog.addEventListener("close", answered);
      }
      if (!dialog || !dialog.showModal) return; // no dialog: the form goes as it is
      event.preventDefault();
      event.stopImmediatePropagation();
      if (dialog.open) return; // asked already: one question, one answer
      var submitter = event.submitter || null;
      ask = {
        form: form,
        submitter: submitter,
        name: submitter && submitter.name,
        value: submitter && submitter.value,
      };
      document.getElementById("confirm-text").textContent = form.dataset.confirm;
      document.getElementById("confirm-yes").textContent = form.dataset.confirmYes || "Yes";
      dialog.returnValue = "";
      dialog.showModal();
    },
    true
  );

  // ------------------------------------------------------- a plain post goes once

  // A form that posts and leaves the page (no HTMX) is sent once: a second press, a
  // scanner's Enter or Ctrl+Enter again while the page loads sends nothing more.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || (form.method || "").toLowerCase() !== "post") return;
    // HTMX forms answer in place; scan forms send each scan in turn themselves.
    if (form.matches("[hx-post], [data-scan-queue], [data-pickup-scan]")) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "yes";
    // The page is leaving; if it comes back from the browser's cache, send again.
    window.addEventListener("pageshow", function () { delete form.dataset.sent; }, { once: true });
  });

  // ------------------------------------------------------------- live regions

  // A live region (templates/_live.html: data-live, polled every few seconds) is not
  // polled, and a poll's answer not swapped in, while the person is in the middle of
  // something there: a field typed or chosen and not sent, a <details> opened, a
  // refusal still to put right, a scan on its way, or a question open.
  function busy(region) {
    return asking() || pending > 0 || unsent(region) ||
      !!region.querySelector("[role=alert], [aria-invalid=true]:not([data-live-keep])");
  }

  function polled(detail) {
    var config = detail.requestConfig || {};
    return (config.verb || "").toLowerCase() === "get";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var region = event.detail.elt;
    if (!region.matches || !region.matches("[data-live]") || !polled(event.detail)) return;
    if (busy(region)) event.preventDefault();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var region = event.detail.target;
    if (!region || !region.matches || !region.matches("[data-live]") || !polled(event.detail)) return;
    if (busy(region)) event.detail.shouldSwap = false;
  });

  // A form or a poll htmx sent that the server could not answer: 503 while the
  // database or the job queue is out of reach (config/unavailable.py), or no answer
  // at all. htmx swaps nothing on either, so the screen says so at the top, where
  // a screen reader reads it out; the person's typing stays where it was.
  function cannotReach(text) {
    var messages = document.getElementById("messages");
    if (!messages) return;
    messages.innerHTML = '<p class="flash error" role="alert"></p>';
    messages.firstChild.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status < 500) return;  // a refusal: each screen shows its own
    var wait = xhr.getResponseHeader("Retry-After");
    var away = { database: "its database", broker: "its job queue" }[xhr.getResponseHeader("X-Unavailable")];
    cannotReach(
      (away ? "One stock cannot reach " + away + " just now" : "Something went wrong on the server") +
      ": that may not have been saved. Check, then try again in " + (wait ? "about " + wait + " seconds" : "a moment") + "."
    );
  });

  document.addEventListener("htmx:sendError", function () {
    cannotReach("The server cannot be reached: that may not have been saved. Check the connection, then try again.");
  });

  document.addEventListener("htmx:load", function (event) { markDetails(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { markDetails(document.body); });

  // ------------------------------------------------------------ the More menu

  // On a phone the header's Menu opens the list of screens where it is (:target):
  // the focus goes into it, and Escape closes it with the focus back on Menu.
  window.addEventListener("hashchange", function () {
    if (location.hash !== "#nav") return;
    var first = document.querySelector("#nav a:not(.menu-close)");
    if (first && getComputedStyle(document.querySelector(".menu-open")).display !== "none") first.focus();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || location.hash !== "#nav") return;
    location.hash = "#";
    var opener = document.querySelector(".menu-open");
    if (opener) opener.focus();
  });

  // The header's "More" closes on Escape (focus back on it) and on a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector(".nav details.more[open]");
    if (!open) return;
    open.removeAttribute("open");
    open.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    var open = document.querySelector(".nav details.more[open]");
    if (open && !open.contains(event.target)) open.removeAttribute("open");
  });

  // ------------------------------------------------- a scan where focus is not

  // A scanner types fast (a few milliseconds a key) and presses Enter. When its
  // burst lands where no text is typed (a button, a choice list), it is not lost
  // and does not press the button: the code goes to the screen's scan field
  // ([data-scan-field]) and is sent from there. A choice list's type-ahead is put
  // back as it was. A person's own Enter on a button still presses it. Where the
  // screen has no scan field yet (a pickup not yet claimed), the burst presses or
  // follows nothing either: it says so beside where the focus is.
  // A scanner's keys come a few milliseconds apart; a person's, well over 100.
  var BURST_GAP_MS = 100;
  var burst = [];
  var last = 0;
  var listBefore = null;

  function typesText(element) {
    if (!element || !element.matches) return false;
    return element.matches("textarea, input:not([type=button]):not([type=submit]):not([type=radio]):not([type=checkbox]):not([type=reset])");
  }

  // What Enter would press, follow or choose.
  function acts(element) {
    return !!element && !!element.matches && element.matches("button, a[href], summary, input[type=submit], input[type=button]");
  }

  // A scan where nothing takes it: said beside the element that has the focus, in
  // its own words if the screen gave some (data-scan-hint on it or around it).
  function notTakenHere(element, code) {
    var hinted = element.closest("[data-scan-hint]");
    var hint = hinted ? hinted.dataset.scanHint : "Nothing here takes a scan: finish this step first.";
    var said = element.nextElementSibling;
    if (!said || !said.hasAttribute("data-scan-refused")) {
      said = document.createElement("p");
      said.setAttribute("role", "status");
      said.setAttribute("data-scan-refused", "");
      element.insertAdjacentElement("afterend", said);
    }
    say(said, "Scanned " + code + ": nothing was done. " + hint);
  }

  document.addEventListener(
    "keydown",
    function (event) {
      var here = document.activeElement;
      if (typesText(here) || event.ctrlKey || event.metaKey || event.altKey) {
        burst = [];
        return;
      }
      var now = event.timeStamp;
      // A slow scanner (some Bluetooth ones) may be given more: <body data-scan-gap-ms>.
      var gap = Number(document.body.dataset.scanGapMs) || BURST_GAP_MS;
      if (event.key.length === 1) {
        if (now - last > gap) {
          burst = [];
          listBefore = here && here.tagName === "SELECT" ? { list: here, index: here.selectedIndex } : null;
        }
        burst.push(event.key);
        last = now;
        return;
      }
      if (event.key === "Enter" && burst.length >= 4 && now - last <= gap) {
        var field = document.querySelector("[data-scan-field]");
        var code = burst.join("");
        burst = [];
        if ((!field || !field.form) && !acts(here)) return; // typed on the page itself
        if (listBefore && listBefore.list.selectedIndex !== listBefore.index) {
          listBefore.list.selectedIndex = listBefore.index;
        }
        event.preventDefault();
        event.stopImmediatePropagation();
        if (!field || !field.form) {
          notTakenHere(here, code);
          return;
        }
        field.value = code;
        field.focus();
        field.form.requestSubmit();
        return;
      }
      burst = [];
    },
    true
  );
})();
