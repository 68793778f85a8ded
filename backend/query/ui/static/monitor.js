// The Monitor page: charts of one service's latency quantiles, error rate and request rate, and its
// operations ranked by impact, all from /api/metrics/*.  Names are only ever inserted as text.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 420, HEIGHT = 160, LEFT = 44, BOTTOM = 18, TOP = 8, RIGHT = 8;
  const service = document.getElementById("service").value;
  const spanKind = document.getElementById("span-kind").value;
  const lookback = document.getElementById("lookback").selectedOptions[0];
  const lookbackMs = Number(lookback.dataset.ms);
  const endTs = Date.now();
  const startTs = endTs - lookbackMs;
  const table = document.getElementById("operations");
  let rows = [];
  let sortKey = "impact";

  function api(kind, extra) {
    const params = new URLSearchParams({ service: service, spanKind: spanKind, endTs: String(endTs), lookback: String(lookbackMs) });
    for (const [key, value] of Object.entries(extra)) params.set(key, String(value));
    return fetch("/api/metrics/" + kind + "?" + params).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.errors && body.errors.length ? body.errors[0].msg : response.statusText);
        return body;
      });
    });
  }

  function el(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function points(family) {
    const series = family.metrics[0];
    if (!series) return [];
    return series.metricPoints.map(function (p) { return [Date.parse(p.timestamp), p.gaugeValue.doubleValue]; });
  }

  function chart(id, lines, format) {
    const svg = el("svg", { viewBox: "0 0 " + WIDTH + " " + HEIGHT, preserveAspectRatio: "none", role: "img" });
    const all = lines.flatMap(function (line) { return line.points; });
    const top = (Math.max(0, ...all.map(function (p) { return p[1]; })) || 1) * 1.1;
    const x = function (t) { return LEFT + (t - startTs) / lookbackMs * (WIDTH - LEFT - RIGHT); };
    const y = function (v) { return HEIGHT - BOTTOM - v / top * (HEIGHT - BOTTOM - TOP); };
    svg.appendChild(el("line", { class: "axis", x1: LEFT, x2: WIDTH - RIGHT, y1: HEIGHT - BOTTOM, y2: HEIGHT - BOTTOM }));
    svg.appendChild(el("line", { class: "axis", x1: LEFT, x2: LEFT, y1: TOP, y2: HEIGHT - BOTTOM }));
    svg.appendChild(el("text", { class: "tick", x: LEFT - 4, y: TOP + 8, "text-anchor": "end" }, format(top)));
    svg.appendChild(el("text", { class: "tick", x: LEFT - 4, y: HEIGHT - BOTTOM, "text-anchor": "end" }, "0"));
    svg.appendChild(el("text", { class: "tick", x: LEFT, y: HEIGHT - 4 }, new Date(startTs).toLocaleTimeString()));
    svg.appendChild(el("text", { class: "tick", x: WIDTH - RIGHT, y: HEIGHT - 4, "text-anchor": "end" }, new Date(endTs).toLocaleTimeString()));
    if (!all.length) {
      svg.appendChild(el("text", { class: "no-data", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, "no data"));
    }
    lines.forEach(function (line, index) {
      if (!line.points.length) return;
      const path = line.points.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); }).join(" ");
      svg.appendChild(el("polyline", { class: "line", points: path, stroke: line.color, "data-label": line.label }));
      for (const p of line.points) svg.appendChild(el("circle", { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2, fill: line.color }));
      const last = line.points[line.points.length - 1];
      svg.appendChild(el("text", { class: "legend", x: LEFT + 6 + index * 90, y: TOP + 10, fill: line.color }, line.label + " " + format(last[1])));
    });
    document.getElementById(id).appendChild(svg);
  }

  function ms(value) { return value >= 100 ? value.toFixed(0) : value.toPrecision(3); }
  function perSecond(value) { return value >= 100 ? value.toFixed(0) : value.toPrecision(3); }
  function percent(value) { return value.toPrecision(3); }

  function showError(error) {
    const box = document.getElementById("metrics-error");
    box.textContent = "Metrics unavailable: " + error.message;
    box.hidden = false;
  }

  function drawCharts(step) {
    const ratePer = Math.max(step, 60000);
    const base = { step: step, ratePer: ratePer };
    return Promise.all([
      api("latencies", Object.assign({ quantile: 0.5 }, base)),
      api("latencies", Object.assign({ quantile: 0.95 }, base)),
      api("latencies", Object.assign({ quantile: 0.99 }, base)),
      api("errors", base),
      api("calls", base),
    ]).then(function (families) {
      chart("chart-latency", [
        { label: "p50", color: "#3f7fd9", points: points(families[0]) },
        { label: "p95", color: "#e08a1e", points: points(families[1]) },
        { label: "p99", color: "#a4161a", points: points(families[2]) },
      ], ms);
      chart("chart-errors", [{ label: "errors", color: "#d0312d", points: points(families[3]).map(function (p) { return [p[0], p[1] * 100]; }) }], percent);
      chart("chart-rate", [{ label: "req/s", color: "#2e8b57", points: points(families[4]) }], perSecond);
    });
  }

  function byOperation(family) {
    const values = {};
    for (const series of family.metrics) {
      const operation = series.labels.find(function (label) { return label.name === "operation"; });
      const last = series.metricPoints[series.metricPoints.length - 1];
      if (operation && last) values[operation.value] = last.gaugeValue.doubleValue;
    }
    return values;
  }

  function loadOperations() {
    // One point covering the whole period: its rate, error fraction and p95.
    const whole = { groupByOperation: true, step: lookbackMs, ratePer: lookbackMs };
    return Promise.all([api("calls", whole), api("errors", whole), api("latencies", Object.assign({ quantile: 0.95 }, whole))])
      .then(function (families) {
        const rates = byOperation(families[0]), errors = byOperation(families[1]), p95 = byOperation(families[2]);
        rows = Object.keys(rates).filter(function (name) { return rates[name] > 0; }).map(function (name) {
          return { name: name, rate: rates[name], errors: errors[name] || 0, p95: p95[name] || 0, impact: rates[name] * (p95[name] || 0) };
        });
        const most = Math.max(0, ...rows.map(function (row) { return row.impact; }));
        for (const row of rows) row.impact = most ? row.impact / most : 0;
        renderRows();
      });
  }

  function searchLink(operation, extra, text) {
    const params = new URLSearchParams({ service: service, operation: operation, lookback: lookback.value });
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    const link = document.createElement("a");
    link.href = "/search?" + params;
    link.textContent = text;
    return link;
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderRows() {
    const sorted = rows.slice().sort(function (a, b) {
      return sortKey === "name" ? a.name.localeCompare(b.name) : b[sortKey] - a[sortKey] || a.name.localeCompare(b.name);
    });
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const data of sorted) {
      const row = body.insertRow();
      row.dataset.operation = data.name;
      cell(row, data.name, "op-name");
      cell(row, ms(data.p95) + " ms", "num");
      cell(row, perSecond(data.rate) + " req/s", "num");
      cell(row, percent(data.errors * 100) + " %", "num");
      const impact = cell(row, "", "num impact");
      const bar = document.createElement("span");
      bar.className = "impact-bar";
      bar.style.width = Math.round(data.impact * 60) + "px";
      impact.append(bar, data.impact.toFixed(2));
      const links = cell(row, "", "links");
      links.append(searchLink(data.name, { sort: "slowest" }, "slowest"), searchLink(data.name, { tags: "error", sort: "newest" }, "failing"));
    }
    document.getElementById("operations-empty").hidden = rows.length > 0;
    for (const th of table.tHead.rows[0].cells) th.classList.toggle("sorted", th.dataset.sort === sortKey);
  }

  table.tHead.addEventListener("click", function (event) {
    const key = event.target.dataset && event.target.dataset.sort;
    if (!key) return;
    sortKey = key;
    renderRows();
  });

  api("minstep", {})
    .then(function (body) {
      const step = Math.max(body.data, Math.ceil(lookbackMs / 60 / 1000) * 1000);
      return Promise.all([drawCharts(step), loadOperations()]);
    })
    .then(function () { document.body.dataset.monitorReady = "true"; })
    .catch(showError);
})();
