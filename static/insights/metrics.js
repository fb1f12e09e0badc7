// Draws the engagement metrics' charts from their JSON data island (#metrics-chart-data), after the
// page loads and after every htmx swap of the result: engagement and churn rate by month (lines),
// retention by cohort (a heatmap, months after joining across), engagement rate by persona (bars).
// Each chart's table, just below it, is its accessible twin.
(function () {
  "use strict";
  var charts = [];

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element || !window.echarts) { return; }
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(Object.assign({ aria: { enabled: true, decal: { show: true } }, animation: false }, option));
    charts.push(chart);
  }

  function render() {
    charts.forEach(function (chart) { chart.dispose(); });
    charts = [];
    var island = document.getElementById("metrics-chart-data");
    if (!island) { return; }
    var data = JSON.parse(island.textContent);
    draw("metrics-months-chart", {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", name: "%", min: 0 },
      series: [
        { name: gettext("Engagement rate"), type: "line", data: data.engagement },
        { name: gettext("Churn rate"), type: "line", data: data.churn, lineStyle: { type: "dashed" } }
      ]
    });
    var longest = 0;
    data.retention.forEach(function (cell) { longest = Math.max(longest, cell[0] + 1); });
    var offsets = [];
    for (var k = 0; k < longest; k += 1) { offsets.push("month " + k); }
    draw("metrics-cohorts-chart", {
      tooltip: { position: "top" },
      xAxis: { type: "category", data: offsets, splitArea: { show: true } },
      yAxis: { type: "category", data: data.cohorts, splitArea: { show: true } },
      visualMap: { min: 0, max: 100, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
      grid: { bottom: 70 },
      series: [{ name: "Retention %", type: "heatmap", data: data.retention, label: { show: true } }]
    });
    draw("metrics-personas-chart", {
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.personas },
      yAxis: { type: "value", name: "%", min: 0, max: 100 },
      series: [{ name: gettext("Engagement rate"), type: "bar", data: data.persona_engagement }]
    });
  }

  function forget() {
    // htmx keeps a copy of the page for the back button: without the charts' marks, so that a restored
    // page draws them again.
    charts.forEach(function (chart) {
      var element = chart.getDom();
      chart.dispose();
      ["style", "_echarts_instance_"].forEach(function (name) { element.removeAttribute(name); });
    });
    charts = [];
  }

  document.addEventListener("DOMContentLoaded", render);
  document.addEventListener("htmx:beforeHistorySave", forget);
  document.addEventListener("htmx:afterSettle", render);
  document.addEventListener("htmx:historyRestore", render);
  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
}());
