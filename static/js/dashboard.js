// Every chart of the managers' pages, in one style (palette, axes, fonts, readable
// dates), drawn with Chart.js (served from static/vendor). A canvas names its data:
//   data-chart="id"       a JSON script element {kind, labels, series, unit}
//                         (kind: bar, stacked, line; unit: "%", "money" or "")
//   data-chart-days="id"  a JSON list of {day: "2024-12-03", percent} (one line)
//   data-chart-list="id"  a hidden list whose items carry data-label, data-value
//                         (horizontal bars, in %)
// Drawn when the page loads, again after every HTMX swap, and a chart inside a
// closed <details> when it is opened (a hidden canvas has no size to draw at).
// Every bar of a chart by store, reason or kind is named: those labels are never
// skipped. Where the box is too narrow to name each bar under it (a phone), the bars
// lie across, one per line with its name beside it, and the box grows to fit them;
// a date axis keeps a few readable ticks instead.
(function () {
  "use strict";
  // The same colours in the same order on every chart; the first is the app's accent.
  var PALETTE = ["#0b6e4f", "#1f6feb", "#d97706", "#a4161a", "#6f42c1", "#0e7490", "#64748b"];
  var INK = "#1d2329";
  var MUTED = "#5b6770";
  var GRID = "#e3e6ea";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // A date as the server and dayLabel write it: "3 Dec".
  var DAY = /^\d{1,2} [A-Z][a-z]{2}$/;
  // Below this width per bar, names under the bars would overlap: the bars lie across.
  var SLOT_UPRIGHT = 120;
  // Lying across: each bar's line, the axis and legend around them.
  var LINE_ACROSS = 34;
  var LINE_OF_TEXT = 16;
  var AROUND = 56;
  var LEGEND = 44;
  var CHAR = 7.5;  // an average character at 13px, to wrap names to their room

  function dayLabel(iso) {
    var parts = String(iso).slice(0, 10).split("-");
    if (parts.length !== 3) return iso;
    return Number(parts[2]) + " " + MONTHS[Number(parts[1]) - 1];
  }

  function styleDefaults() {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 13;
    Chart.defaults.color = MUTED;
    Chart.defaults.borderColor = GRID;
    Chart.defaults.plugins.legend.position = "bottom";
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
    Chart.defaults.plugins.legend.labels.color = INK;
  }

  function specFrom(canvas) {
    var source;
    if (canvas.dataset.chart) {
      source = document.getElementById(canvas.dataset.chart);
      return source ? JSON.parse(source.textContent) : null;
    }
    if (canvas.dataset.chartDays) {
      source = document.getElementById(canvas.dataset.chartDays);
      if (!source) return null;
      var days = JSON.parse(source.textContent);
      return {
        kind: "line",
        labels: days.map(function (d) { return dayLabel(d.day); }),
        series: [{ label: canvas.getAttribute("aria-label"), values: days.map(function (d) { return d.percent; }) }],
        unit: "%",
      };
    }
    if (canvas.dataset.chartList) {
      source = document.getElementById(canvas.dataset.chartList);
      if (!source) return null;
      var items = Array.prototype.slice.call(source.querySelectorAll("[data-label]"));
      return {
        kind: "hbar",
        labels: items.map(function (li) { return li.dataset.label; }),
        series: [{
          label: canvas.getAttribute("aria-label"),
          values: items.map(function (li) { return li.dataset.value === "" ? null : Number(li.dataset.value); }),
        }],
        unit: "%",
      };
    }
    return null;
  }

  function formatter(spec, currency) {
    return function (value) {
      if (spec.unit === "money") return currency + Number(value).toLocaleString();
      return value + spec.unit;
    };
  }

  // A name split into lines of at most ``room`` characters, at spaces.
  function wrap(text, room) {
    var words = String(text).split(" ");
    var lines = [];
    var line = "";
    words.forEach(function (word) {
      if (line && (line + " " + word).length > room) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) lines.push(line);
    return lines.length > 1 ? lines : lines[0] || "";
  }

  function isDates(spec) {
    if (spec.kind === "line") return true;
    return spec.labels.length > 0 && spec.labels.every(function (label) { return DAY.test(label); });
  }

  // How a chart is laid out in its box now: dates (a few ticks), upright bars each
  // named under it, or bars across, each named beside it.
  function layoutFor(spec, box) {
    if (isDates(spec)) return "dates";
    if (spec.kind === "hbar") return "across";
    var width = box.clientWidth || 1;
    return width / Math.max(spec.labels.length, 1) < SLOT_UPRIGHT ? "across" : "upright";
  }

  function draw(canvas) {
    if (typeof Chart === "undefined") return;
    if (canvas.closest("details:not([open])")) return;  // drawn when opened
    var spec = specFrom(canvas);
    if (!spec) return;
    var existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    var box = canvas.parentElement;
    var layout = layoutFor(spec, box);
    var stacked = spec.kind === "stacked";
    var line = spec.kind === "line";
    var across = layout === "across";
    var legend = spec.series.length > 1;
    // Names wrap to the room they have: under an upright bar, its slot; beside bars
    // across, at most two fifths of the box.
    var room = Math.max(8, Math.floor(
      across ? box.clientWidth * 0.4 / CHAR : box.clientWidth / Math.max(spec.labels.length, 1) / CHAR - 1
    ));
    if (across) {
      var lines = spec.labels.reduce(function (sum, label) {
        var wrapped = wrap(label, room);
        return sum + Math.max(LINE_ACROSS, (Array.isArray(wrapped) ? wrapped.length : 1) * LINE_OF_TEXT + 14);
      }, 0);
      box.style.height = (lines + AROUND + (legend ? LEGEND : 0)) + "px";
    } else {
      box.style.height = "";
    }
    canvas.dataset.layout = layout;
    var format = formatter(spec, canvas.dataset.currency || "£");
    var valueAxis = {
      stacked: stacked,
      beginAtZero: true,
      max: spec.unit === "%" ? 100 : undefined,
      grid: { color: GRID },
      border: { display: false },
      ticks: { maxTicksLimit: 6, precision: spec.unit === "" ? 0 : undefined, callback: format },
    };
    var labelAxis = {
      stacked: stacked,
      grid: { display: false },
      ticks: layout === "dates"
        ? { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 }
        : {
          // Every bar named: a store, a reason, a kind is never skipped.
          maxRotation: 0,
          autoSkip: false,
          callback: function (value) { return wrap(this.getLabelForValue(value), room); },
        },
    };
    new Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) {
          var colour = PALETTE[index % PALETTE.length];
          return {
            label: series.label,
            data: series.values,
            backgroundColor: colour,
            borderColor: colour,
            borderWidth: line ? 2 : 0,
            pointRadius: line ? 3 : 0,
            spanGaps: true,
            tension: 0,
            maxBarThickness: across ? 24 : 48,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: across ? "y" : "x",
        plugins: {
          legend: { display: legend },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + format(across ? item.parsed.x : item.parsed.y); } } },
        },
        scales: across ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
      },
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart], canvas[data-chart-days], canvas[data-chart-list]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Chart !== "undefined") styleDefaults();
    drawAll(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
  // A phone turned, a window made narrower: a chart whose bars no longer fit their
  // layout is drawn again in the other (Chart.js only resizes).
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      document.querySelectorAll("canvas[data-layout]").forEach(function (canvas) {
        var spec = Chart.getChart(canvas) && specFrom(canvas);
        if (spec && layoutFor(spec, canvas.parentElement) !== canvas.dataset.layout) draw(canvas);
      });
    }, 200);
  });
  // <details> does not bubble "toggle": listen in the capture phase.
  document.addEventListener("toggle", function (event) {
    if (event.target.open) drawAll(event.target);
  }, true);
})();
