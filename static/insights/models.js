// The model page's calibration charts: the observed share of positives against the mean predicted
// probability per bin, with the diagonal of a perfectly calibrated model. The table under each
// chart holds the same figures (its twin).
(function () {
  "use strict";

  function draw(data) {
    var container = document.getElementById("model-chart-" + data.kind);
    if (!container || !window.echarts) { return; }
    var chart = window.echarts.init(container, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item" },
      legend: { top: 0 },
      grid: { left: 56, right: 16, top: 40, bottom: 48 },
      xAxis: { type: "value", min: 0, max: 1, name: gettext("Mean predicted"), nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", min: 0, max: 1, name: gettext("Observed"), nameLocation: "middle", nameGap: 40 },
      series: [
        { name: gettext("Perfect calibration"), type: "line", data: [[0, 0], [1, 1]], symbol: "none", lineStyle: { type: "dashed" } },
        {
          name: data.label,
          type: "line",
          data: data.predicted.map(function (p, i) { return [p, data.observed[i], data.rows[i]]; }),
        },
      ],
    });
    container.dataset.points = String(data.predicted.length);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var island = document.getElementById("model-charts-data");
    if (!island) { return; }
    JSON.parse(island.textContent).forEach(draw);
  });
})();
