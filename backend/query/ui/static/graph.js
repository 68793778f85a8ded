// The trace graph: one node per service and operation, an arrow per caller → callee pair with the
// number of calls. Nodes sit in columns by their shallowest depth in the trace and are ordered in a
// column by where their callers are, so a 10,000-span trace of repeated calls reads as a few dozen
// boxes. A column keeps its MAX_PER_COLUMN busiest nodes and folds the rest into one "more" node.
// With the page's service filter, only the shown services' operations are nodes: a span's caller is
// its nearest ancestor of a shown service (the calls through the others are collapsed into one arrow).
"use strict";

TraceUI.GRAPH = { MAX_PER_COLUMN: 25, MAX_LABELLED_EDGES: 60, WIDTH: 250, HEIGHT: 66, GAP_X: 90, GAP_Y: 18 };

// Nodes and edges of the aggregated call graph, laid out in columns.
TraceUI.traceGraph = function (model, shown) {
  const nodes = new Map(), edges = new Map(), nodeOf = new Map();
  const caller = new Map(), depth = new Map();  // span id -> nearest shown ancestor, and its depth among shown spans
  for (const span of model.order) {  // parents come before their children in model.order
    const parent = span.parentID ? model.byId.get(span.parentID) : null;
    const above = !parent ? null : TraceUI.isShown(shown, parent) ? parent : caller.get(parent.spanID) || null;
    caller.set(span.spanID, above);
    if (!TraceUI.isShown(shown, span)) continue;
    depth.set(span.spanID, above ? depth.get(above.spanID) + 1 : 0);
    const column = depth.get(span.spanID);
    const key = span.service + "\u0000" + span.operationName;
    let node = nodes.get(key);
    if (!node) nodes.set(key, (node = { key: key, service: span.service, operation: span.operationName, count: 0, errors: 0, total: 0, self: 0, column: column, folded: 0 }));
    node.count += 1;
    node.errors += span.isError ? 1 : 0;
    node.total += span.duration;
    node.self += span.selfTime;
    node.column = Math.min(node.column, column);
    nodeOf.set(span.spanID, node);
  }
  for (const span of model.order) {
    const above = caller.get(span.spanID);
    if (!above || !nodeOf.has(span.spanID)) continue;
    const from = nodeOf.get(above.spanID), to = nodeOf.get(span.spanID);
    const key = from.key + "\u0001" + to.key;
    const edge = edges.get(key);
    if (edge) edge.count += 1;
    else edges.set(key, { from: from, to: to, count: 1 });
  }
  const columns = [];
  for (const node of nodes.values()) (columns[node.column] = columns[node.column] || []).push(node);
  const placed = [];
  const position = new Map();
  const incoming = new Map();
  for (const edge of edges.values()) {
    if (!incoming.has(edge.to)) incoming.set(edge.to, []);
    incoming.get(edge.to).push(edge);
  }
  const merged = new Map();
  for (let c = 0; c < columns.length; c++) {
    let column = (columns[c] || []).slice();
    // Busiest first, then by the mean position of the callers (keeps arrows short and uncrossed).
    column.sort(function (a, b) { return b.total - a.total; });
    if (column.length > TraceUI.GRAPH.MAX_PER_COLUMN) {
      const keep = column.slice(0, TraceUI.GRAPH.MAX_PER_COLUMN - 1);
      const rest = column.slice(TraceUI.GRAPH.MAX_PER_COLUMN - 1);
      const more = { key: "more " + c, service: "", operation: "+" + rest.length + " more operations", count: 0, errors: 0, total: 0, self: 0, column: c, folded: rest.length };
      for (const node of rest) {
        more.count += node.count; more.errors += node.errors; more.total += node.total; more.self += node.self;
        merged.set(node, more);
      }
      column = keep.concat([more]);
    }
    const weight = function (node) {
      const callers = (incoming.get(node) || []).filter(function (e) { return position.has(merged.get(e.from) || e.from); });
      if (!callers.length) return Infinity;
      let sum = 0, n = 0;
      for (const e of callers) { sum += position.get(merged.get(e.from) || e.from) * e.count; n += e.count; }
      return sum / n;
    };
    column.forEach(function (node) { node.order = node.folded ? Infinity : weight(node); });
    column.sort(function (a, b) { return a.order - b.order || b.total - a.total; });
    column.forEach(function (node, index) {
      node.x = c * (TraceUI.GRAPH.WIDTH + TraceUI.GRAPH.GAP_X);
      node.y = index * (TraceUI.GRAPH.HEIGHT + TraceUI.GRAPH.GAP_Y);
      position.set(node, index);
      placed.push(node);
    });
  }
  const links = new Map();
  for (const edge of edges.values()) {
    const from = merged.get(edge.from) || edge.from, to = merged.get(edge.to) || edge.to;
    const key = from.key + "\u0001" + to.key;
    const link = links.get(key);
    if (link) link.count += edge.count;
    else links.set(key, { from: from, to: to, count: edge.count });
  }
  return { nodes: placed, edges: Array.from(links.values()) };
};

TraceUI.drawGraph = function (model, container, shown) {
  const G = TraceUI.GRAPH;
  const graph = TraceUI.traceGraph(model, shown);
  let width = 0, height = 0;
  for (const node of graph.nodes) { width = Math.max(width, node.x + G.WIDTH); height = Math.max(height, node.y + G.HEIGHT); }
  const svg = TraceUI.svg("svg", { class: "trace-graph", width: width + 40, height: height + 40, viewBox: "-20 -20 " + (width + 40) + " " + (height + 40) });
  svg.id = "trace-graph";
  const defs = TraceUI.svg("defs", {});
  const marker = TraceUI.svg("marker", { id: "graph-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto" });
  marker.appendChild(TraceUI.svg("path", { d: "M0,0 L10,5 L0,10 z" }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  const text = function (x, y, className, value) {
    const node = TraceUI.svg("text", { x: x, y: y, class: className });
    node.textContent = value;
    return node;
  };
  // Many arrows (a trace where anything calls anything) are drawn faint and unlabelled, their counts in tooltips.
  const crowded = graph.edges.length > G.MAX_LABELLED_EDGES;
  for (const edge of graph.edges) {
    const backward = edge.to.x <= edge.from.x && edge.from !== edge.to;
    const group = TraceUI.svg("g", { class: "graph-edge" + (backward ? " backward" : "") + (crowded ? " crowded" : "") });
    let d, lx, ly;
    if (edge.from === edge.to) {  // an operation calling itself: a loop over the box
      const x = edge.from.x + G.WIDTH - 40, y = edge.from.y;
      d = "M" + x + "," + y + " C" + (x - 10) + "," + (y - 30) + " " + (x + 40) + "," + (y - 30) + " " + (x + 30) + "," + y;
      lx = x + 15; ly = y - 24;
    } else {
      const x1 = edge.from.x + G.WIDTH, y1 = edge.from.y + G.HEIGHT / 2, x2 = edge.to.x, y2 = edge.to.y + G.HEIGHT / 2;
      const bend = Math.max(Math.abs(x2 - x1) / 2, 40);
      d = "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + y1 + " " + (x2 - bend) + "," + y2 + " " + x2 + "," + y2;
      // The label sits three quarters along the curve, near the callee, where arrows from one caller have fanned out.
      lx = 0.015625 * x1 + 0.140625 * (x1 + bend) + 0.421875 * (x2 - bend) + 0.421875 * x2;
      ly = 0.015625 * y1 + 0.140625 * y1 + 0.421875 * y2 + 0.421875 * y2 - 4;
    }
    const path = TraceUI.svg("path", { d: d, "marker-end": "url(#graph-arrow)" });
    path.style.strokeWidth = Math.min(1 + Math.log2(edge.count) / 2, 5);
    group.appendChild(path);
    if (!crowded) group.appendChild(text(lx, ly, "edge-label", "×" + edge.count));
    const title = TraceUI.svg("title", {});
    title.textContent = edge.from.service + ": " + edge.from.operation + " → " + edge.to.service + ": " + edge.to.operation + " ×" + edge.count;
    group.appendChild(title);
    svg.appendChild(group);
  }
  for (const node of graph.nodes) {
    const share = Math.min(node.self / model.duration, 1);
    const group = TraceUI.svg("g", { class: "graph-node" + (node.errors ? " error" : "") + (node.folded ? " folded" : ""), transform: "translate(" + node.x + "," + node.y + ")" });
    group.setAttribute("data-service", node.service);
    group.setAttribute("data-operation", node.operation);
    group.appendChild(TraceUI.svg("rect", { width: G.WIDTH, height: G.HEIGHT, rx: 5, fill: "hsl(8, 80%, " + Math.round(97 - share * 35) + "%)" }));
    if (node.service) group.appendChild(TraceUI.svg("rect", { class: "stripe", width: 6, height: G.HEIGHT, fill: model.colour(node.service) }));
    const clip = function (value, n) { return value.length > n ? value.slice(0, n - 1) + "…" : value; };
    group.appendChild(text(14, 18, "node-service", clip(node.service, 34)));
    group.appendChild(text(14, 36, "node-operation", clip(node.operation, 36)));
    group.appendChild(text(14, 55, "node-metrics", node.count + (node.count === 1 ? " call" : " calls") +
      (node.errors ? " (" + node.errors + " err)" : "") + " · " + TraceUI.formatDuration(node.total) + " · self " + TraceUI.formatDuration(node.self)));
    const title = TraceUI.svg("title", {});
    title.textContent = node.service + ": " + node.operation + "\n" + node.count + " calls, " + node.errors + " errors\ntotal " +
      TraceUI.formatDuration(node.total) + ", self " + TraceUI.formatDuration(node.self) + " (" + (share * 100).toFixed(1) + "% of the trace)";
    group.appendChild(title);
    svg.appendChild(group);
  }
  const spans = model.order.filter(function (span) { return TraceUI.isShown(shown, span); }).length;
  const legend = TraceUI.el("p", "hint", graph.nodes.length + " nodes for " + spans + " spans" +
    (spans < model.order.length ? " of the services the filter shows" : "") + " · " +
    (crowded ? graph.edges.length + " arrows, thicker for more calls (counts on hover)" : "arrows count calls") +
    " · dashed: calls back to an earlier column · box colour: share of the trace's time spent in the operation itself");
  legend.id = "graph-legend";
  container.replaceChildren(legend, svg);
};
