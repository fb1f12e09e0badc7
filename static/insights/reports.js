// Draws the report's chart from its JSON data island (#report-chart-data), after the page loads and
// after every htmx swap of the result: every KPI chosen, one line per KPI (and group), on one panel
// per unit (percent, seconds, counts …) sharing the intervals, the previous period dashed beside each
// line when compared. ECharts' aria module describes the chart and decal patterns tell the lines
// apart without colour; a click on a point opens the contacts behind it. From the keyboard the chart
// is one stop: the arrow keys move from point to point (left/right: intervals, up/down: lines), the
// point is read out in a live region, and Enter opens its contacts. The table below is its twin.
(function () {
  "use strict";
  var chart = null;
  var PANEL_TOP = 72, PANEL_HEIGHT = 170, PANEL_GAP = 48;

  function panels(data) {
    var grids = [], xAxes = [], yAxes = [];
    data.panels.forEach(function (panel, index) {
      var top = PANEL_TOP + index * (PANEL_HEIGHT + PANEL_GAP);
      var last = index === data.panels.length - 1;
      grids.push({ top: top, height: PANEL_HEIGHT, left: 64, right: 24 });
      xAxes.push({ type: "category", gridIndex: index, data: data.labels, axisLabel: { show: last } });
      yAxes.push({
        type: "value", gridIndex: index, name: panel.axis, nameTextStyle: { align: "left" },
        min: 0
      });
    });
    return { grid: grids, xAxis: xAxes, yAxis: yAxes };
  }

  // A figure as the table shows it (insights.reports.tables.format_value): "—" when it has none.
  function formatValue(unit, value) {
    if (value === null || value === undefined) { return "—"; }
    var digits = { count: 0, seconds: 1, percent: 1 }[unit];
    var text = value.toLocaleString("en", {
      minimumFractionDigits: digits === undefined ? 2 : digits,
      maximumFractionDigits: digits === undefined ? 2 : digits
    });
    return unit === "percent" ? text + "%" : unit === "seconds" ? text + " s" : text;
  }

  function options(data) {
    var layout = panels(data);
    return {
      aria: { enabled: true, decal: { show: true } },
      // Drawn in the SVG (richText), not as an HTML box: its inline styles would break the CSP.
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, type: "scroll" },
      axisPointer: { link: [{ xAxisIndex: "all" }] },
      grid: layout.grid, xAxis: layout.xAxis, yAxis: layout.yAxis,
      series: data.series.map(function (line) {
        return {
          name: line.name, type: "line", data: line.values, connectNulls: false,
          xAxisIndex: line.panel, yAxisIndex: line.panel,
          tooltip: { valueFormatter: function (value) { return formatValue(line.unit, value); } },
          lineStyle: line.previous ? { type: "dashed" } : undefined
        };
      })
    };
  }

  // Keyboard: a cursor on (line, interval); the live region says what it points at.
  // Listeners once per container (a redraw of the same container, after another swap, keeps them),
  // reading the data of the latest draw.
  var current = null;

  function keyboard(container, data) {
    current = data;  // the listeners read the latest draw's data
    if (container.dataset.keyboard) { return; }
    container.dataset.keyboard = "on";
    var cursor = { line: 0, at: 0 };
    var status = document.getElementById("report-chart-status");

    function show() {
      var data = current;
      cursor.line = Math.min(cursor.line, data.series.length - 1);
      cursor.at = Math.min(cursor.at, data.labels.length - 1);
      var line = data.series[cursor.line], value = line.values[cursor.at];
      chart.dispatchAction({ type: "showTip", seriesIndex: cursor.line, dataIndex: cursor.at });
      if (status) {
        status.textContent = line.name + ", " + data.labels[cursor.at] + ": " +
          (value === null ? gettext("no figure") : formatValue(line.unit, value)) +
          (line.links[cursor.at] ? ". " + gettext("Enter opens its contacts.") : ".");
      }
    }

    container.addEventListener("keydown", function (event) {
      var data = current, moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      if (moves[event.key]) {
        cursor.line = Math.min(Math.max(cursor.line + moves[event.key][0], 0), data.series.length - 1);
        cursor.at = Math.min(Math.max(cursor.at + moves[event.key][1], 0), data.labels.length - 1);
        event.preventDefault();
        show();
      } else if (event.key === "Enter" && data.series[cursor.line].links[cursor.at]) {
        window.location.assign(data.series[cursor.line].links[cursor.at]);
      }
    });
    container.addEventListener("focus", show);
  }

  function draw() {
    var island = document.getElementById("report-chart-data");
    var container = document.getElementById("report-chart");
    if (chart) { chart.dispose(); chart = null; }
    if (!island || !container || !window.echarts) { return; }
    var data = JSON.parse(island.textContent);
    chart = window.echarts.init(container, null, { renderer: "svg" });
    chart.setOption(options(data));
    container.dataset.series = String(data.series.length);
    chart.on("click", function (event) {
      var line = data.series[event.seriesIndex];
      var link = line && line.links[event.dataIndex];
      if (link) { window.location.assign(link); }
    });
    keyboard(container, data);
  }

  // htmx keeps a copy of the page for the back button before it swaps: without the chart, whose
  // styles (set by ECharts) the Content-Security-Policy would refuse in the copy. It is redrawn
  // from the data island after the swap, and after the back button restores the copy.
  function forget() {
    var container = document.getElementById("report-chart");
    if (chart) { chart.dispose(); chart = null; }
    if (container) {
      // The copy's container is a new element: without these marks, the restored page's draw sets it up again.
      ["style", "_echarts_instance_", "data-keyboard", "data-series"].forEach(function (name) {
        container.removeAttribute(name);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:beforeHistorySave", forget);
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("htmx:historyRestore", draw);
  window.addEventListener("resize", function () { if (chart) { chart.resize(); } });
})();
