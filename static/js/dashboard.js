// Every chart of the managers' pages, in one style (palette, axes, fonts, readable
// dates), drawn with Chart.js (served from static/vendor). A canvas names its data:
//   data-chart="id"       a JSON script element {kind, labels, series, unit}
//                         (kind: bar, stacked, line; unit: "%", "money" or "")
//   data-chart-days="id"  a JSON list of {day: "2024-12-03", percent} (one line)
//   data-chart-list="id"  a hidden list whose items carry data-label, data-value
//                         (horizontal bars, in %)
// Drawn when the page loads, again after every HTMX swap, and a chart inside a
// closed <details> when it is opened (a hidden canvas has no size to draw at).
(function () {
  "use strict";
  // The same colours in the same order on every chart; the first is the app's accent.
  var PALETTE = ["#0b6e4f", "#1f6feb", "#d97706", "#a4161a", "#6f42c1", "#0e7490", "#64748b"];
  var INK = "#1d2329";
  var MUTED = "#5b6770";
  var GRID = "#e3e6ea";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

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

  function draw(canvas) {
    if (typeof Chart === "undefined") return;
    if (canvas.closest("details:not([open])")) return;  // drawn when opened
    var spec = specFrom(canvas);
    if (!spec) return;
    var existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    var stacked = spec.kind === "stacked";
    var line = spec.kind === "line";
    var across = spec.kind === "hbar";
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
      ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: across ? 20 : 8 },
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
            maxBarThickness: 48,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: across ? "y" : "x",
        plugins: {
          legend: { display: spec.series.length > 1 },
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
  // <details> does not bubble "toggle": listen in the capture phase.
  document.addEventListener("toggle", function (event) {
    if (event.target.open) drawAll(event.target);
  }, true);
})();
