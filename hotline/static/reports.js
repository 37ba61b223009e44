// Reports dashboard: draws the charts from data-chart attributes with ECharts (served from
// /static/vendor, installed by `make setup`), makes every bar and point open the cases behind it,
// and loads the hot-topics section. No inline scripts (CSP); the tables hold the same numbers,
// so the page works without this file or without ECharts.
(function () {
  "use strict";

  var COLORS = ["#1f5fbf", "#1b7a3d", "#b3261e", "#a35f00", "#7a1f9a", "#0d4b6e"];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function tooltip(percent) {
    // HTML with classes only: the CSP forbids the inline styles ECharts' default tooltip writes.
    return function (items) {
      if (!items.length) { return ""; }
      var lines = ['<div class="chart-tip"><div class="tip-title">' + escapeHtml(items[0].axisValueLabel) + "</div>"];
      items.forEach(function (it) {
        var value = it.value === null || it.value === undefined ? "—" : it.value + (percent ? "%" : "");
        lines.push("<div>" + escapeHtml(it.seriesName) + ": <b>" + escapeHtml(value) + "</b></div>");
      });
      lines.push("</div>");
      return lines.join("");
    };
  }

  function drawChart(el) {
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    if (!spec || !spec.labels || !spec.labels.length) { return; }
    if (spec.horizontal) {
      // one row per group: give long Chinese labels room, grow with the number of groups
      el.style.height = Math.max(220, 60 + spec.labels.length * 22 * Math.max(1, spec.series.length * 0.6)) + "px";
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var category = { type: "category", data: spec.labels, axisLabel: { interval: spec.horizontal ? 0 : "auto" } };
    var value = { type: "value", axisLabel: spec.percent ? { formatter: "{value}%" } : {} };
    if (spec.percent) { value.max = 100; }
    if (spec.horizontal) { category.inverse = true; }
    chart.setOption({
      color: COLORS,
      animation: false,
      tooltip: { trigger: "axis", formatter: tooltip(spec.percent), confine: true },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? value : category,
      yAxis: spec.horizontal ? category : value,
      series: spec.series.map(function (s) {
        return { name: s.name, type: s.type, data: s.data, cursor: "pointer", barMaxWidth: 28,
                 showSymbol: s.type === "line", connectNulls: false };
      })
    });
    chart.on("click", function (params) {
      var series = spec.series[params.seriesIndex];
      var url = series && series.urls ? series.urls[params.dataIndex] : null;
      if (url) { window.location.href = url; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    window.addEventListener("load", function () { chart.resize(); });  // after fonts and layout settle
  }

  function loadHot() {
    var section = document.querySelector("section.hot[data-src]");
    if (!section || !window.fetch) { return; }
    var body = section.querySelector(".hot-body");
    var previous = body.innerHTML;
    body.setAttribute("aria-busy", "true");
    fetch(section.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.text(); })
      .then(function (html) { body.innerHTML = html; })
      .catch(function () { body.innerHTML = previous; })
      .then(function () { body.removeAttribute("aria-busy"); });
  }

  function init() {
    if (window.echarts) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), drawChart);
    }
    loadHot();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
