// The statistics view: per service and operation, how many spans and how much time (total, average,
// min, max) and self time, grouped by service (operations inside) or by operation (services inside).
// Sorting by any column orders the groups and the rows inside them. Group and sort are kept in the URL.
// Only the spans of the services the page's filter shows are counted.
"use strict";

TraceUI.STAT_COLUMNS = [
  ["name", "Name"], ["count", "Count"], ["total", "Total"], ["avg", "Avg"], ["min", "Min"], ["max", "Max"],
  ["selfTotal", "Self total"], ["selfAvg", "Self avg"], ["selfMin", "Self min"], ["selfMax", "Self max"],
  ["selfPercent", "Self % of trace"],
];

function newStat(name) {
  return { name: name, count: 0, total: 0, min: Infinity, max: 0, selfTotal: 0, selfMin: Infinity, selfMax: 0 };
}

function addSpan(stat, span) {
  stat.count += 1;
  stat.total += span.duration;
  stat.min = Math.min(stat.min, span.duration);
  stat.max = Math.max(stat.max, span.duration);
  stat.selfTotal += span.selfTime;
  stat.selfMin = Math.min(stat.selfMin, span.selfTime);
  stat.selfMax = Math.max(stat.selfMax, span.selfTime);
}

// Groups (by service or by operation), each with its rows (the other key) and the group's own totals.
TraceUI.statistics = function (model, groupBy, shown) {
  const groups = new Map();
  for (const span of model.order) {
    if (!TraceUI.isShown(shown, span)) continue;
    const outer = groupBy === "operation" ? span.operationName : span.service;
    const inner = groupBy === "operation" ? span.service : span.operationName;
    let group = groups.get(outer);
    if (!group) groups.set(outer, (group = { stat: newStat(outer), rows: new Map() }));
    let row = group.rows.get(inner);
    if (!row) group.rows.set(inner, (row = newStat(inner)));
    addSpan(group.stat, span);
    addSpan(row, span);
  }
  const finish = function (stat) {
    stat.avg = stat.total / stat.count;
    stat.selfAvg = stat.selfTotal / stat.count;
    stat.selfPercent = (stat.selfTotal * 100) / model.duration;
    return stat;
  };
  return Array.from(groups.values()).map(function (group) {
    return { stat: finish(group.stat), rows: Array.from(group.rows.values()).map(finish) };
  });
};

TraceUI.drawStatistics = function (model, container, shown) {
  const params = TraceUI.pageParams();
  const state = {
    group: params.get("group") === "operation" ? "operation" : "service",
    sort: (params.get("sort") || "-total").replace(/^-/, ""),
    descending: !params.has("sort") || params.get("sort").charAt(0) === "-",
  };
  if (!TraceUI.STAT_COLUMNS.some(function (c) { return c[0] === state.sort; })) state.sort = "total";

  const controls = TraceUI.el("div", "view-controls");
  const choose = TraceUI.el("label", "", "Group by ");
  const select = document.createElement("select");
  select.id = "stats-group";
  select.append(new Option("Service, then operation", "service"), new Option("Operation, then service", "operation"));
  select.value = state.group;
  choose.appendChild(select);
  controls.appendChild(choose);
  const table = TraceUI.el("table", "stats");
  table.id = "stats-table";
  container.replaceChildren(controls, table);

  function order(a, b) {
    const x = a[state.sort], y = b[state.sort];
    const result = typeof x === "string" ? x.localeCompare(y) : x - y;
    return state.descending ? -result : result;
  }

  function draw() {
    const head = TraceUI.el("thead");
    const headRow = head.insertRow();
    for (const [key, label] of TraceUI.STAT_COLUMNS) {
      const th = TraceUI.el("th", key === "name" ? "" : "num", label + (key === state.sort ? (state.descending ? " ▾" : " ▴") : ""));
      th.dataset.sort = key;
      th.title = "Sort by " + label;
      headRow.appendChild(th);
    }
    const body = TraceUI.el("tbody");
    const groups = TraceUI.statistics(model, state.group, shown).sort(function (a, b) { return order(a.stat, b.stat); });
    for (const group of groups) {
      body.appendChild(statRow(group.stat, "group", state.group === "service" ? model.colour(group.stat.name) : null));
      for (const row of group.rows.sort(order)) body.appendChild(statRow(row, "sub", state.group === "operation" ? model.colour(row.name) : null));
    }
    table.replaceChildren(head, body);
  }

  function statRow(stat, kind, colour) {
    const row = TraceUI.el("tr", kind);
    row.dataset.name = stat.name;
    const name = TraceUI.el("td", "name");
    if (colour) {
      const swatch = TraceUI.el("span", "swatch");
      swatch.style.background = colour;
      name.appendChild(swatch);
    }
    name.appendChild(TraceUI.el("span", kind === "group" ? "group-name" : "row-name", stat.name));
    row.appendChild(name);
    row.appendChild(TraceUI.el("td", "num count", stat.count));
    for (const key of ["total", "avg", "min", "max", "selfTotal", "selfAvg", "selfMin", "selfMax"]) {
      row.appendChild(TraceUI.el("td", "num " + key, TraceUI.formatDuration(stat[key])));
    }
    row.appendChild(TraceUI.el("td", "num selfPercent", stat.selfPercent.toFixed(1) + "%"));
    return row;
  }

  select.addEventListener("change", function () {
    state.group = select.value;
    TraceUI.setParams({ group: state.group === "service" ? null : state.group });
    draw();
  });
  table.addEventListener("click", function (event) {
    const th = event.target.closest("th");
    if (!th) return;
    state.descending = th.dataset.sort === state.sort ? !state.descending : th.dataset.sort !== "name";
    state.sort = th.dataset.sort;
    TraceUI.setParams({ sort: (state.descending ? "-" : "") + state.sort });
    draw();
  });
  draw();
};
