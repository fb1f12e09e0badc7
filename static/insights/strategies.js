// Draws a strategy's effect from its JSON data island (#strategy-effect-data): for each row of the
// effect table (all customers, then each team) the metric's rate among treated customers beside the
// holdout's, in percent. ECharts' aria module describes the chart and decal patterns tell the two
// groups apart without colour. The effect table above is its twin, with the interval and its reading.
(function () {
  "use strict";

  function draw() {
    var island = document.getElementById("strategy-effect-data");
    var target = document.getElementById("strategy-effect-chart");
    if (!island || !target || typeof echarts === "undefined") { return; }
    var rows = JSON.parse(island.textContent);
    if (!rows.length) { target.hidden = true; return; }
    var chart = echarts.init(target, null, { renderer: "svg" });
    chart.setOption({
      aria: { enabled: true, decal: { show: true } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v.toFixed(1) + "%"; } },
      legend: { top: 0 },
      grid: { top: 40, left: 56, right: 24, bottom: 32 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }) },
      yAxis: { type: "value", name: "rate (%)", min: 0, max: 100 },
      series: [
        { name: gettext("Treated"), type: "bar", data: rows.map(function (r) { return r.treated; }) },
        { name: gettext("Holdout"), type: "bar", data: rows.map(function (r) { return r.holdout; }) }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
