// Analytics charts, drawn from the data tables beside them: the table is the single source,
// so what the chart shows, what a screen reader reads and what the CSV holds agree.
(function () {
  "use strict";
  if (!window.echarts) return;

  function number(text) {
    var value = parseFloat(text);
    return isNaN(value) ? null : value;
  }

  function readTable(figure) {
    var table = figure.querySelector("table.data");
    var columns = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    var rows = Array.prototype.map.call(table.querySelectorAll("tbody tr"), function (tr) {
      return {
        name: tr.querySelector("th").textContent.trim(),
        values: Array.prototype.map.call(tr.querySelectorAll("td"), function (td) {
          return number(td.getAttribute("data-value"));
        }),
        x: number(tr.getAttribute("data-x")),
        y: number(tr.getAttribute("data-y"))
      };
    });
    return { columns: columns, rows: rows };
  }

  function wanted(figure, count) {
    var listed = figure.getAttribute("data-series");
    if (listed) return listed.split(",").map(Number);
    var all = [];
    for (var i = 1; i <= count; i++) all.push(i);
    return all;
  }

  function cartesian(figure, data, kind) {
    var columns = wanted(figure, data.columns.length - 1);
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: data.rows.map(function (r) { return r.name; }) },
      yAxis: { type: "value" },
      series: columns.map(function (col) {
        return {
          name: data.columns[col],
          type: kind,
          stack: kind === "bar" && figure.id === "chart-weekly" ? "total" : undefined,
          data: data.rows.map(function (r) { return r.values[col - 1]; })
        };
      })
    };
  }

  function pie(data) {
    return {
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      series: [{
        type: "pie",
        radius: ["35%", "65%"],
        data: data.rows.map(function (r) { return { name: r.name, value: r.values[0] }; })
      }]
    };
  }

  function tileMap(data) {
    var max = Math.max.apply(null, data.rows.map(function (r) { return r.values[0] || 0; }).concat([1]));
    return {
      tooltip: { formatter: function (p) { return p.data[3] + ": " + p.data[2]; } },
      xAxis: { type: "category", data: [0, 1, 2, 3, 4], show: false },
      yAxis: { type: "category", data: [0, 1, 2, 3, 4, 5], inverse: true, show: false },
      grid: { left: 8, right: 8, top: 8, bottom: 48 },
      visualMap: { min: 0, max: max, orient: "horizontal", left: "center", bottom: 0, calculable: true,
                   inRange: { color: ["#fdf1e6", "#c0392b"] } },
      series: [{
        type: "heatmap",
        data: data.rows.map(function (r) { return [r.x, r.y, r.values[0], r.name]; }),
        label: { show: true, formatter: function (p) { return p.data[3] + "\n" + p.data[2]; } },
        itemStyle: { borderColor: "#fff", borderWidth: 2 }
      }]
    };
  }

  document.querySelectorAll("figure.chart").forEach(function (figure) {
    var data = readTable(figure);
    var kind = figure.getAttribute("data-chart");
    var option = kind === "pie" ? pie(data) : kind === "map" ? tileMap(data) : cartesian(figure, data, kind);
    var chart = window.echarts.init(figure.querySelector(".chart-canvas"));
    chart.setOption(option);
    figure.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
