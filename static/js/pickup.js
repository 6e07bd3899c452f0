// The pickup task screen, scanner first (templates/pickup/_task.html).
//
// - The one scan field (form[data-pickup-scan]): each scan is sent in turn, in
//   order, and the field is emptied at once for the next, so scans typed at a
//   scanner's speed all land. Enter on an empty field sends nothing. A refused code
//   comes back into the field, selected (the next scan replaces it), marked invalid,
//   with the message right under it.
// - After every action the focus goes to the next thing to do ([data-focus]: the
//   Claim button, Start picking, the scan field, the hold shelf, the collection
//   code), or stays on the field a refusal is about.
// - The task follows what others do (a poll every few seconds, config/screens.py):
//   a poll is held back while anything in the task is typed or chosen but not sent,
//   or a scan is on its way; the scan field and its message are never replaced by a
//   poll, so a scan being typed is never wiped.
// - Enter in an empty text field of the task sends nothing: a scanner's stray Enter
//   confirms nothing anywhere.
// Without JavaScript every form posts as usual and the page comes back whole.
(function () {
  "use strict";

  var queue = Promise.resolve();
  var pending = 0;

  function task() {
    return document.getElementById("task");
  }

  function focusNext(root) {
    var field = document.getElementById("scan");
    var target = (root || document).querySelector("[data-focus]") || field;
    if (!target) return;
    target.focus({ preventScroll: false });
    if (target.getAttribute("aria-invalid") === "true" && target.select) target.select();
  }

  // Something typed, chosen or opened in the task and not sent yet.
  function dirty(root) {
    if (!root) return false;
    var fields = root.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      // The scan field is never replaced (keepScanField): what is typed there stays.
      if (field.type === "hidden" || field.type === "submit" || field.id === "scan") continue;
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked !== field.defaultChecked) return true;
      } else if (field.tagName === "SELECT") {
        var first = 0;
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].defaultSelected) {
            first = j;
            break;
          }
        }
        if (field.options.length && field.selectedIndex !== first) return true;
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
    if (!root) return;
    root.querySelectorAll("details").forEach(function (details) {
      if (details.open) details.setAttribute("data-was-open", "");
    });
  }

  // The scan field and its message are the live ones, whatever comes back: only
  // their state is taken from the answer.
  function keepScanField(fresh, takeState, kept) {
    // Within an htmx swap the live ones are already out of the page: passed in.
    var field = kept ? kept.field : document.getElementById("scan");
    var said = kept ? kept.said : document.getElementById("scan-result");
    var newField = fresh.querySelector("#scan");
    var newSaid = fresh.querySelector("#scan-result");
    if (!field || !newField) return false;
    // htmx may have moved the focus to the answer's field of the same id already.
    var wasFocused = document.activeElement === field || document.activeElement === newField;
    if (takeState && field.value === "" && pending === 0) {
      field.value = newField.value;
      if (newField.getAttribute("aria-invalid") === "true") {
        field.setAttribute("aria-invalid", "true");
      } else {
        field.removeAttribute("aria-invalid");
      }
    }
    newField.replaceWith(field);
    if (said && newSaid) {
      if (takeState && newSaid.textContent.trim()) {
        said.className = newSaid.className;
        said.textContent = newSaid.textContent;
      }
      newSaid.replaceWith(said);
    }
    return wasFocused;
  }

  function swapTask(html) {
    var current = task();
    if (!current) return;
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    keepScanField(fresh, true);
    current.replaceWith(fresh);
    markDetails(fresh);
    if (window.htmx) window.htmx.process(fresh);
    var field = document.getElementById("scan");
    if (field) {
      field.focus();
      if (field.getAttribute("aria-invalid") === "true") field.select();
    } else {
      focusNext(fresh);
    }
  }

  function scanSaid(text) {
    var said = document.getElementById("scan-result");
    if (!said) return;
    said.className = "scan-result error";
    said.textContent = text;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-pickup-scan]")) return;
    event.preventDefault();
    var field = form.elements.scanned;
    var code = field.value.trim();
    field.focus();
    if (!code) return; // a stray Enter: nothing was scanned, nothing is picked
    var body = new FormData(form);
    field.value = "";
    field.removeAttribute("aria-invalid");
    pending += 1;
    queue = queue
      .then(function () {
        return fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "HX-Request": "true", "HX-Target": "task" },
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("The scan of " + code + " was not saved (" + response.status + ").");
        return response.text();
      })
      .then(function (html) {
        pending -= 1;
        swapTask(html);
      })
      .catch(function (error) {
        pending -= 1;
        scanSaid(error.message + " Scan it again.");
      });
  });

  // A stray Enter in an empty text field of the task sends nothing; in a search
  // for a substitute, Enter searches (it never records the answer).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target;
    if (!field.matches || !field.closest("#task")) return;
    if (field.matches("input[data-substitute-search]")) {
      event.preventDefault();
      if (window.htmx) window.htmx.trigger(field, "search");
      return;
    }
    if (field.matches("input[type=text], input[type=number], input[type=search]") && field.value.trim() === "") {
      event.preventDefault();
    }
  });

  // Polls (GET) of the task wait while the person is in the middle of something.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    if (!config || config.verb !== "get" || event.detail.elt !== task()) return;
    if (pending > 0 || dirty(task())) event.preventDefault();
  });

  var stash = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (event.detail.target !== task()) return;
    var polled = config && config.verb === "get";
    if (polled && (pending > 0 || dirty(task()))) {
      event.detail.shouldSwap = false;
      return;
    }
    stash = {
      polled: polled,
      inside: task().contains(document.activeElement),
      field: document.getElementById("scan"),
      said: document.getElementById("scan-result"),
    };
  });

  var settleFocus = null;
  document.addEventListener("htmx:afterSwap", function (event) {
    var fresh = event.target;
    if (!stash || !fresh || fresh.id !== "task") return;
    var was = stash;
    stash = null;
    // The scan field the person is using stays; an action's answer may bring a
    // message for it (a substitute recorded: scan it now).
    var scanFocused = keepScanField(fresh, !was.polled, was);
    markDetails(fresh);
    if (scanFocused) document.getElementById("scan").focus();
    // The new buttons work once htmx has settled them: the focus moves then, so an
    // Enter pressed at once goes through htmx, not as a plain post.
    if (!was.polled) {
      settleFocus = fresh;
    } else if (was.inside && !scanFocused && (document.activeElement === document.body || !document.activeElement)) {
      settleFocus = fresh;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!settleFocus || event.target !== settleFocus) return;
    var fresh = settleFocus;
    settleFocus = null;
    if (document.body.contains(fresh)) focusNext(fresh);
  });

  function start() {
    markDetails(task());
    if (task()) focusNext(task());
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
