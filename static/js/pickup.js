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
// - The task follows what others do (a poll every few seconds, config/screens.py;
//   screens.js holds a poll back while anything in it is typed, chosen or opened and
//   not sent, or a scan is on its way); the scan field and its message are never
//   replaced by a swap, so a scan being typed is never wiped.
// - Enter in an empty text field of the task sends nothing: a scanner's stray Enter
//   confirms nothing anywhere.
// Without JavaScript every form posts as usual and the page comes back whole.
(function () {
  "use strict";

  function task() {
    return document.getElementById("task");
  }

  function nextThing(root) {
    return (root || document).querySelector("[data-focus]") || document.getElementById("scan");
  }

  function typedInto(target) {
    return target.matches("input:not([type=radio]):not([type=checkbox]), textarea");
  }

  function focusNext(root, keepTyped) {
    var target = nextThing(root);
    if (!target) return;
    // Settling, a field given the focus as the answer came in keeps what has been
    // typed since: selecting it now would lose it.
    if (keepTyped && document.activeElement === target) return;
    target.focus({ preventScroll: false });
    if (target.getAttribute("aria-invalid") === "true" && target.select) target.select();
    showRefused(target);
  }

  // A refused field is brought to the middle of the screen, its message with it:
  // on a phone the form used may be far down the task.
  function showRefused(target) {
    if (target.closest("[aria-invalid=true]") && target.scrollIntoView) {
      target.scrollIntoView({ block: "center" });
    }
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
    // Whether the scan field is the next thing to do is the answer's to say: a
    // refusal under the report form (or a problem's) keeps the focus there.
    if (newField.hasAttribute("data-focus")) {
      field.setAttribute("data-focus", "");
    } else {
      field.removeAttribute("data-focus");
    }
    if (takeState && field.value === "" && Screens.pending() === 0) {
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
    if (window.htmx) window.htmx.process(fresh);
    var field = document.getElementById("scan");
    if (field) {
      field.focus();
      if (field.getAttribute("aria-invalid") === "true") field.select();
    } else {
      focusNext(fresh);
    }
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
    Screens.sendInTurn(form, body, {
      target: "task",
      what: "The scan of " + code,
      answered: swapTask,
      failed: function (message) { Screens.say(document.getElementById("scan-result"), message); },
    });
  });

  // The first item found for what the search field holds, if it is on the screen.
  function firstFound(search) {
    var list = document.getElementById(search.getAttribute("aria-controls"));
    var found = list && list.querySelector("fieldset[data-found-for]");
    if (!found || found.dataset.foundFor !== search.value.trim()) return null;
    return found.querySelector("input[type=radio]");
  }

  // Enter after a search moves to the items it found; at once, it searches first.
  var enterSearched = null;
  document.addEventListener("htmx:afterSettle", function (event) {
    var search = enterSearched;
    if (!search || !search.getAttribute || event.target.id !== search.getAttribute("aria-controls")) return;
    enterSearched = null;
    var first = firstFound(search);
    if (first && document.activeElement === search) first.focus();
  });

  // A stray Enter in an empty text field of the task sends nothing; in a search
  // for a substitute, Enter or the down arrow goes to the items found (searching
  // first if need be), so they are reached from the keyboard: Tab would pass them,
  // as they are in one group with the suggestions above. Enter never records the
  // answer there.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (!field.matches || !field.closest("#task")) return;
    if (field.matches("input[data-substitute-search]") && (event.key === "Enter" || event.key === "ArrowDown")) {
      event.preventDefault();
      var first = firstFound(field);
      if (first) {
        first.focus();
      } else if (event.key === "Enter" && window.htmx) {
        enterSearched = field;
        window.htmx.trigger(field, "search");
      }
      return;
    }
    if (event.key !== "Enter") return;
    if (field.matches("input[type=text], input[type=number], input[type=search]") && field.value.trim() === "") {
      event.preventDefault();
    }
  });

  var stash = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (event.detail.target !== task()) return;
    var polled = config && config.verb === "get";
    if (!event.detail.shouldSwap) return; // held back by screens.js: someone is busy
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
    if (scanFocused) document.getElementById("scan").focus();
    // The new buttons work once htmx has settled them: the focus moves then, so an
    // Enter pressed at once goes through htmx, not as a plain post. A field to type
    // in takes the focus now, its refused text selected: a scan arriving before the
    // settle lands in it, replacing that text (htmx has put back the old caret, at
    // the end, where a full field takes nothing more).
    if (!was.polled) {
      var next = nextThing(fresh);
      if (next && !scanFocused && typedInto(next)) {
        next.focus({ preventScroll: false });
        if (next.getAttribute("aria-invalid") === "true" && next.select) next.select();
        showRefused(next);
      }
      settleFocus = fresh;
    } else if (was.inside && !scanFocused && (document.activeElement === document.body || !document.activeElement)) {
      settleFocus = fresh;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!settleFocus || event.target !== settleFocus) return;
    var fresh = settleFocus;
    settleFocus = null;
    if (document.body.contains(fresh)) focusNext(fresh, true);
  });

  function start() {
    if (task()) focusNext(task());
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
