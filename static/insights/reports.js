// Draws the report's chart from its JSON data island (#report-chart-data), after the page loads and
// after every htmx swap of the result. ECharts' aria module describes the chart and decal patterns
// tell the lines apart without colour; a click on a point opens the contacts behind it.
(function () {
  "use strict";
  var chart = null;

  function draw() {
    var island = document.getElementById("report-chart-data");
    var container = document.getElementById("report-chart");
    if (chart) { chart.dispose(); chart = null; }
    if (!island || !container || !window.echarts) { return; }
    var data = JSON.parse(island.textContent);
    chart = window.echarts.init(container, null, { renderer: "svg" });
    chart.setOption({
      aria: { enabled: true, decal: { show: true } },
      title: { text: data.title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { top: 24, type: "scroll" },
      grid: { top: 64, left: 56, right: 24, bottom: 40 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", name: data.unit },
      series: data.series.map(function (line) {
        return {
          name: line.name, type: "line", data: line.values, connectNulls: false,
          lineStyle: line.name === "Previous period" ? { type: "dashed" } : undefined
        };
      })
    });
    chart.on("click", function (event) {
      var line = data.series[event.seriesIndex];
      var link = line && line.links[event.dataIndex];
      if (link) { window.location.assign(link); }
    });
  }

  // htmx keeps a copy of the page for the back button before it swaps: without the chart, whose
  // styles (set by ECharts) the Content-Security-Policy would refuse in the copy. It is redrawn
  // from the data island after the swap, and after the back button restores the copy.
  function forget() {
    var container = document.getElementById("report-chart");
    if (chart) { chart.dispose(); chart = null; }
    if (container) { container.removeAttribute("style"); container.removeAttribute("_echarts_instance_"); }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:beforeHistorySave", forget);
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("htmx:historyRestore", draw);
  window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
})();
