// Draws arbitration's Qini curve from its JSON data island (#arbitration-qini-data): for the uplift of
// all customers (and each team the reader sees) the incremental successes against the number of
// firings targeted, best priority first, beside the random line. The table under the chart is its
// twin, point by point. ECharts' aria module describes the chart.
(function () {
  "use strict";

  function draw() {
    var island = document.getElementById("arbitration-qini-data");
    var target = document.getElementById("arbitration-qini-chart");
    if (!island || !target || typeof echarts === "undefined") { return; }
    var rows = JSON.parse(island.textContent);
    if (!rows.length) { target.hidden = true; return; }
    var series = [];
    rows.forEach(function (row) {
      series.push({ name: row.label, type: "line", showSymbol: false, data: row.curve });
      var last = row.curve[row.curve.length - 1];
      series.push({
        name: row.label + " (random)", type: "line", showSymbol: false, lineStyle: { type: "dashed" },
        data: [[0, 0], last]
      });
    });
    var chart = echarts.init(target, null, { renderer: "svg" });
    chart.setOption({
      aria: { enabled: true, decal: { show: true } },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { top: 40, left: 64, right: 24, bottom: 40 },
      xAxis: { type: "value", name: gettext("firings targeted"), nameLocation: "middle", nameGap: 26 },
      yAxis: { type: "value", name: gettext("incremental successes") },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
