// The trace as the page's scripts see it: spans in tree order, with depth, parent, colours and errors.
// Built once from the embedded Jaeger JSON; every view draws from it. Span data is only ever
// inserted into the page as text (TraceUI.el sets textContent).
"use strict";
window.TraceUI = window.TraceUI || {};

TraceUI.el = function (tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
};

TraceUI.svg = function (tag, attributes) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const name in attributes) node.setAttribute(name, attributes[name]);
  return node;
};

// Three significant digits, as the server's duration filter writes them: 920ms, 1.25s, 48µs.
TraceUI.formatDuration = function (us) {
  const short = function (value) {
    if (value >= 100) return String(Math.round(value));
    const text = value.toPrecision(3);
    return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
  };
  if (us >= 1e6) return short(us / 1e6) + "s";
  if (us >= 1e3) return short(us / 1e3) + "ms";
  return Math.round(us) + "µs";
};

// A span's self time: its duration less the time its children cover (overlapping children counted once,
// children clipped to the span). The one place it is computed; statistics, table and graph read span.selfTime.
TraceUI.selfTime = function (span, kidsByStart) {
  const end = span.startTime + span.duration;
  let covered = 0, cursor = span.startTime;
  for (const kid of kidsByStart) {
    const from = Math.max(kid.startTime, cursor), to = Math.min(kid.startTime + kid.duration, end);
    if (to > from) { covered += to - from; cursor = to; }
  }
  return span.duration - covered;
};

// Whether the page's service filter (a Set of service names; empty: every service) shows this span.
TraceUI.isShown = function (shown, span) { return !shown || !shown.size || shown.has(span.service); };

// An attribute value as text, for table cells and filters.
TraceUI.tagText = function (value) {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
};

// The critical path's segments by span id: [[start µs, end µs], ...].
TraceUI.criticalSegments = function (critical) {
  const segments = new Map();
  ((critical && critical.segments) || []).forEach(function (seg) {
    if (!segments.has(seg[0])) segments.set(seg[0], []);
    segments.get(seg[0]).push([seg[1], seg[2]]);
  });
  return segments;
};

TraceUI.buildModel = function (data, critical) {
  const spans = data.spans;
  const byId = new Map();
  spans.forEach(function (span) { byId.set(span.spanID, span); });
  const children = new Map();
  const roots = [];
  spans.forEach(function (span) {
    let parent = null;
    for (const ref of span.references || []) {
      if (ref.refType === "CHILD_OF" && ref.traceID === span.traceID && byId.has(ref.spanID)) { parent = ref.spanID; break; }
    }
    span.parentID = parent;
    if (parent === null) roots.push(span);
    else {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(span);
    }
  });
  const byStart = function (a, b) { return a.startTime - b.startTime; };
  roots.sort(byStart);
  // Depth-first order without recursion (10,000-span traces can be deep); subtreeEnd marks each subtree's last index.
  const order = [];
  const stack = roots.slice().reverse().map(function (span) { return [span, 0]; });
  while (stack.length) {
    const [span, depth] = stack.pop();
    span.depth = depth;
    span.index = order.length;
    order.push(span);
    const kids = (children.get(span.spanID) || []).sort(byStart);
    span.childCount = kids.length;
    span.selfTime = TraceUI.selfTime(span, kids);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
  }
  const subtreeEnd = new Int32Array(order.length);
  for (let i = order.length - 1; i >= 0; i--) {
    let end = i;
    for (const kid of children.get(order[i].spanID) || []) end = Math.max(end, subtreeEnd[kid.index]);
    subtreeEnd[i] = end;
  }
  let start = Infinity, finish = -Infinity;
  spans.forEach(function (span) {
    start = Math.min(start, span.startTime);
    finish = Math.max(finish, span.startTime + span.duration);
    span.service = (data.processes[span.processID] || {}).serviceName || "";
    span.isError = (span.tags || []).some(function (t) { return t.key === "error" && (t.value === true || t.value === "true"); });
    const code = (span.tags || []).find(function (t) { return t.key === "otel.status_code"; });
    span.status = span.isError ? "error" : code ? String(code.value).toLowerCase() : "unset";
  });
  const services = Array.from(new Set(spans.map(function (s) { return s.service; }))).sort();
  const colours = new Map(services.map(function (name, i) {
    return [name, "hsl(" + Math.round((i * 360) / Math.max(services.length, 1) + 200) % 360 + ", 60%, 52%)"];
  }));
  const segments = TraceUI.criticalSegments(critical);
  return {
    data: data, byId: byId, order: order, subtreeEnd: subtreeEnd, start: start, services: services,
    duration: Math.max(finish - start, 1), colour: function (service) { return colours.get(service); },
    critical: segments,
  };
};
