// The returns counter and bench, for a barcode scanner (a keyboard that types a
// code and Enter) and for hands on a keyboard. Wired by data-attributes: the
// Content-Security-Policy runs no inline script.
//
// - form[data-enter-moves]: Enter never sends the form. On the receipt number it
//   moves to the items; on an item row it takes the scan and moves to the next
//   empty row (adding one), coming back to a code that is no item, selected, for
//   the next scan to replace; on the order's scan field it counts the item on its
//   line, or keeps a refused code there, selected and marked, for the next scan to
//   replace. A kit's code on an order's scan field counts one kit on its items' lines
//   (the first kit line of it with room for a whole kit). Only the form's button,
//   or Ctrl+Enter, sends it.
// - form[data-grade-form]: a grade that writes units off is asked first
//   (data-confirm, static/js/screens.js) and its button turns red.
// - form[data-short-confirm]: receiving a parcel with units missing is asked first.
// - a live region's poll (held back by screens.js while something typed is not sent
//   or a refusal shows) keeps the last action's message where it was.
(function () {
  "use strict";

  var WRITE_OFF = {
    damaged: function (n, sku) {
      return "Write off " + n + " × " + sku + " as damaged? They stay here but can never be sold. This cannot be undone.";
    },
    return_to_vendor: function (n, sku) {
      return "Send " + n + " × " + sku + " back to the vendor? They leave this store's stock. This cannot be undone.";
    },
    destroy: function (n, sku) {
      return "Destroy " + n + " × " + sku + "? They leave this store's stock for good. This cannot be undone.";
    },
  };

  function say(element, text, kind) {
    if (!element) return;
    element.textContent = text;
    element.classList.remove("error", "success");
    if (kind) element.classList.add(kind);
  }

  // ---------------------------------------------------------------- Enter moves on

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target;
    var form = field.form || (field.closest && field.closest("form"));
    if (!form || !form.matches("form[data-enter-moves]")) return;
    if (event.ctrlKey || event.metaKey) {
      // The deliberate way to send from anywhere in the form.
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (field.tagName === "BUTTON" || field.tagName === "A" || field.tagName === "TEXTAREA") return;
    if (field.tagName !== "INPUT") return;
    event.preventDefault();
    if (field.dataset.next) {
      var empty = emptyItem(form, null);
      (empty || document.getElementById(field.dataset.next)).focus();
    } else if (field.matches("[data-item]")) {
      itemScanned(form, field);
    } else if (field.matches("[data-scan-lines]")) {
      lineScanned(form, field);
    }
  });

  // ------------------------------------------------------- finding the purchase

  // The purchase search (#find-q) also takes scans: once a search sent with Enter
  // is answered, its text is selected, so the next scan replaces it rather than
  // joining it. A search made while typing by hand is left as typed.
  var searchedWithEnter = null;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.id === "find-q") searchedWithEnter = event.target.value;
  }, true);
  document.addEventListener("htmx:afterRequest", function () {
    var field = document.getElementById("find-q");
    if (!field || searchedWithEnter === null || field.value !== searchedWithEnter) return;
    searchedWithEnter = null;
    if (document.activeElement === field) field.select();
  });

  // ---------------------------------------------------------------- till items

  function items(form) {
    return Array.prototype.slice.call(form.querySelectorAll("input[data-item]"));
  }

  function emptyItem(form, after) {
    var all = items(form);
    var start = after ? all.indexOf(after) + 1 : 0;
    for (var i = start; i < all.length; i++) {
      if (!all[i].value.trim()) return all[i];
    }
    return null;
  }

  function rowOf(field) {
    return field.closest("[data-row]");
  }

  function itemScanned(form, field) {
    var code = field.value.trim();
    var said = form.querySelector("[data-items-said]");
    if (!code) {
      say(said, "Scan an item, or type its SKU.", null);
      return;
    }
    // The same item scanned again: one more on its row.
    var twin = items(form).filter(function (other) {
      return other !== field && other.value.trim().toLowerCase() === code.toLowerCase();
    })[0];
    if (twin) {
      var quantity = rowOf(twin).querySelector("[data-quantity]");
      quantity.value = String((parseInt(quantity.value, 10) || 0) + 1);
      field.value = "";
      say(said, (twin.dataset.sku || code) + ": " + quantity.value + " coming back (item " + rowOf(twin).dataset.row + ").", "success");
      return;
    }
    var next = emptyItem(form, field) || addRow(form);
    if (next) next.focus();
    lookUp(form, field, code, said);
  }

  function lookUp(form, field, code, said) {
    var row = rowOf(field);
    var rowSaid = row.querySelector("[data-item-said]");
    var url = form.dataset.lookup + "?code=" + encodeURIComponent(code);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) {
        return answer.json().then(function (body) {
          return { ok: answer.ok, body: body };
        });
      })
      .then(function (result) {
        if (field.value.trim() !== code) return; // changed since: no longer this scan
        if (result.ok) {
          field.dataset.sku = result.body.code;
          field.removeAttribute("aria-invalid");
          row.classList.remove("invalid");
          // A kit comes back as its items: the row says which.
          var parts = result.body.parts ? ": a kit, back as " + result.body.parts : "";
          say(rowSaid, result.body.name + " (" + result.body.code + ")" + parts, "success");
          say(said, "Item " + row.dataset.row + ": " + result.body.name + ".", "success");
        } else {
          field.setAttribute("aria-invalid", "true");
          row.classList.add("invalid");
          say(rowSaid, result.body.message, "error");
          say(said, "Item " + row.dataset.row + ": " + result.body.message, "error");
          // Back to the refused code, selected, for the next scan to replace: unless
          // something has been typed since in the row the focus moved on to.
          var now = document.activeElement;
          if (now && now !== field && now.matches("input[data-item]") && !now.value.trim()) {
            field.focus();
            field.select();
          }
        }
      })
      .catch(function () {
        say(rowSaid, "", null); // offline: the server checks the code when the form is sent
      });
  }

  function addRow(form) {
    var rows = form.querySelectorAll("[data-row]");
    var last = rows[rows.length - 1];
    if (!last || rows.length >= 60) return null;
    var old = last.dataset.row;
    var key = String(parseInt(old, 10) + 1);
    var copy = last.cloneNode(true);
    copy.dataset.row = key;
    copy.classList.remove("invalid");
    copy.querySelectorAll("[id],[name],[for],[aria-describedby],[aria-label]").forEach(function (el) {
      ["id", "name", "for", "aria-describedby"].forEach(function (attribute) {
        var value = el.getAttribute(attribute);
        if (value) el.setAttribute(attribute, value.replace("-" + old, "-" + key));
      });
      var label = el.getAttribute("aria-label");
      if (label) el.setAttribute("aria-label", label.replace("Item " + old, "Item " + key));
    });
    copy.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace("Item " + old, "Item " + key);
    });
    copy.querySelectorAll("input, select").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("autofocus");
      delete el.dataset.sku;
      if (el.matches("[data-quantity]")) el.value = "1";
      else if (el.tagName === "SELECT") el.value = "";
      else el.value = "";
    });
    copy.querySelectorAll(".field-said").forEach(function (p) {
      if (p.matches("[data-item-said]")) say(p, "", null);
      else p.remove();
    });
    last.parentNode.insertBefore(copy, last.nextSibling);
    return copy.querySelector("input[data-item]");
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.matches && field.matches("input[data-item]") && field.getAttribute("aria-invalid")) {
      field.removeAttribute("aria-invalid");
      rowOf(field).classList.remove("invalid");
      say(rowOf(field).querySelector("[data-item-said]"), "", null);
    }
  });

  // ---------------------------------------------------------------- an order's lines

  // Answered at once, in the page: a counted scan empties the field for the next;
  // a refused one stays in it, selected and marked, so the next scan replaces it.
  function lineScanned(form, field) {
    var code = field.value.trim();
    var said = form.querySelector("[data-scan-said]");
    if (!code) {
      field.value = "";
      say(said, "Scan an item the customer brought back.", null);
      return;
    }
    var wanted = code.toLowerCase();
    function named(codes) {
      return codes.toLowerCase().split(/\s+/).indexOf(wanted) >= 0;
    }
    var kits = Array.prototype.filter.call(form.querySelectorAll("[data-kit-codes]"), function (each) {
      return named(each.dataset.kitCodes);
    });
    if (kits.length) {
      kitScanned(field, said, kits);
      return;
    }
    // The item may be on several lines (sold alone, and in a kit): the first with
    // room takes it.
    var lines = Array.prototype.filter.call(form.querySelectorAll("[data-codes]"), function (each) {
      return named(each.dataset.codes);
    });
    if (!lines.length) {
      refused(field, said, code + " is not on this order.");
      return;
    }
    var line = lines.filter(function (each) {
      return room(each, 1);
    })[0] || lines[0];
    var quantity = line.querySelector("[data-quantity]");
    var sku = line.dataset.codes.split(/\s+/)[0];
    if (!quantity) {
      refused(field, said, sku + ": nothing left to return on this line.");
      return;
    }
    if (!room(line, 1)) {
      refused(field, said, "Only " + quantity.max + " of " + sku + " can come back.");
      return;
    }
    quantity.value = String((parseInt(quantity.value, 10) || 0) + 1);
    field.value = "";
    field.removeAttribute("aria-invalid");
    say(said, sku + ": " + quantity.value + " returning. Say why on its line.", "success");
  }

  // Whether a line's units returning can grow by ``units``.
  function room(line, units) {
    var quantity = line.querySelector("[data-quantity]");
    if (!quantity) return false;
    return (parseInt(quantity.value, 10) || 0) + units <= parseInt(quantity.max, 10);
  }

  // A whole kit: its per-kit units on each of its items' lines, on the first kit
  // line of it where every item has room; else refused, nothing counted.
  function kitScanned(field, said, kits) {
    var kit = kits[0].dataset.kit;
    var group = kits.filter(function (each) {
      var lines = each.querySelectorAll("[data-per-kit]");
      return lines.length && Array.prototype.every.call(lines, function (line) {
        return room(line, parseInt(line.dataset.perKit, 10));
      });
    })[0];
    if (!group) {
      refused(field, said, "No whole " + kit + " left to come back: scan its items one by one.");
      return;
    }
    var counted = Array.prototype.map.call(group.querySelectorAll("[data-per-kit]"), function (line) {
      var quantity = line.querySelector("[data-quantity]");
      quantity.value = String((parseInt(quantity.value, 10) || 0) + parseInt(line.dataset.perKit, 10));
      return line.dataset.codes.split(/\s+/)[0] + " " + quantity.value;
    });
    field.value = "";
    field.removeAttribute("aria-invalid");
    say(said, kit + ": one kit, its items returning (" + counted.join(", ") + "). Say why on each line.", "success");
  }

  function refused(field, said, text) {
    field.setAttribute("aria-invalid", "true");
    field.select();
    say(said, text, "error");
  }

  // ---------------------------------------------------------------- what cannot be undone

  function gradeChanged(form) {
    var chosen = form.querySelector("input[name=grade]:checked");
    var button = form.querySelector("button[type=submit]");
    var units = form.querySelector("input[name=quantity]");
    var ask = chosen && WRITE_OFF[chosen.value];
    if (ask) {
      var n = (units && units.value) || "1";
      form.dataset.confirm = ask(n, form.dataset.sku);
      form.dataset.confirmYes = chosen.value === "damaged" ? "Write off" : chosen.value === "destroy" ? "Destroy" : "Send back";
      button.className = "danger";
      button.textContent = "Grade: " + form.dataset.confirmYes.toLowerCase();
    } else {
      delete form.dataset.confirm;
      delete form.dataset.confirmYes;
      button.className = "primary";
      button.textContent = "Grade";
    }
  }

  function parcelChanged(form) {
    var missing = 0;
    form.querySelectorAll("input[data-announced]").forEach(function (field) {
      var here = parseInt(field.value, 10);
      missing += Math.max(parseInt(field.dataset.announced, 10) - (isNaN(here) ? 0 : here), 0);
    });
    var button = form.querySelector("button[type=submit]");
    if (missing) {
      form.dataset.confirm = "Receive return " + form.dataset.shortConfirm + " with " + missing + (missing === 1 ? " unit" : " units") + " not in the parcel? They stop being expected here.";
      form.dataset.confirmYes = "Receive what is here";
      button.className = "danger";
    } else {
      delete form.dataset.confirm;
      delete form.dataset.confirmYes;
      button.className = "primary";
    }
  }

  function changed(event) {
    var form = event.target.form;
    if (!form) return;
    if (form.matches("form[data-grade-form]")) gradeChanged(form);
    if (form.matches("form[data-short-confirm]")) parcelChanged(form);
  }
  document.addEventListener("change", changed);
  document.addEventListener("input", changed);

  // ---------------------------------------------------------------- live regions

  // A poll is held back while something is typed and not sent, or a refusal is
  // still to put right (screens.js, for every live region).

  // A poll brings the region back without the last action's message: keep it
  // where it was (by the button it sat above) until the next action.
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var region = event.detail.target;
    var config = event.detail.requestConfig || {};
    kept = null;
    if (!region || !region.matches || !region.matches("[data-live]") || config.verb !== "get") return;
    var said = region.querySelector("[data-said]");
    var next = said && said.nextElementSibling;
    if (said && next && next.id) kept = { said: said, before: next.id };
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!kept) return;
    var before = document.getElementById(kept.before);
    if (before && !before.previousElementSibling?.matches("[data-said]")) {
      kept.said.removeAttribute("role"); // said once already
      before.parentNode.insertBefore(kept.said, before);
    }
    kept = null;
  });

  // A grade form swapped in with a grade already chosen (after a refusal) shows
  // the right button.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root.querySelectorAll) return;
    root.querySelectorAll("form[data-grade-form]").forEach(gradeChanged);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-grade-form]").forEach(gradeChanged);
  });
})();
