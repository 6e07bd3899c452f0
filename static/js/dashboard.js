// Draws the dashboard's charts with Chart.js (served from static/vendor) from the
// JSON the server writes beside each canvas; again after every HTMX swap.
(function () {
  "use strict";
  var PALETTE = ["#0b6e4f", "#1f6feb", "#d97706", "#a4161a", "#6f42c1", "#0e7490", "#64748b"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    var stacked = spec.kind === "stacked";
    var line = spec.kind === "line";
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
            spanGaps: false,
            tension: 0.2,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: spec.series.length > 1 || stacked } },
        scales: {
          x: { stacked: stacked },
          y: {
            stacked: stacked,
            beginAtZero: true,
            max: spec.unit === "%" && line ? 100 : undefined,
            ticks: { precision: spec.unit === "%" ? undefined : 0, callback: function (value) { return value + spec.unit; } },
          },
        },
      },
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
