// The journey map's flow diagram: an ECharts sankey of stage-to-stage moves. Stages appear twice,
// "from" on the left and "to" on the right, so moves back (service → loyalty → service) draw too:
// a sankey cannot draw a cycle. The table under the chart holds the same figures.
(function () {
  "use strict";
  const element = document.getElementById("journey-flow-chart");
  const data = JSON.parse(document.getElementById("journey-map-data").textContent);
  if (!element || typeof echarts === "undefined") return;
  const names = Object.fromEntries(data.stages.map((stage) => [stage.key, stage.name]));
  const from = (key) => (names[key] || key) + " ›";
  const to = (key) => "› " + (names[key] || key);
  const nodes = new Map();
  const links = data.flows.map((flow) => {
    nodes.set(from(flow.from_stage), { name: from(flow.from_stage), depth: 0 });
    nodes.set(to(flow.to_stage), { name: to(flow.to_stage), depth: 1 });
    return { source: from(flow.from_stage), target: to(flow.to_stage), value: flow.visits };
  });
  if (!links.length) {
    element.hidden = true;
    return;
  }
  const chart = echarts.init(element, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "item" },
    series: [{ type: "sankey", data: Array.from(nodes.values()), links: links, emphasis: { focus: "adjacency" } }],
  });
  window.addEventListener("resize", () => chart.resize());
})();
