// The upload page: read a Jaeger or OTLP JSON file in the browser, check it, list its traces and show
// the chosen one with every trace view. OTLP goes through POST /api/transform (Jaeger UI's route);
// nothing is stored. Every problem with the file is said in one line, naming where it is.
"use strict";

(function () {
  const input = document.getElementById("upload-file");
  const zone = document.getElementById("drop-zone");
  const problem = document.getElementById("upload-error");
  const list = document.getElementById("upload-traces");
  const root = document.getElementById("trace-root");
  let showing = null;
  TraceUI.bindCopy(document.body);

  function fail(message) {
    problem.textContent = message;
    problem.hidden = false;
    list.hidden = true;
    root.replaceChildren();
  }

  // JSON, or one JSON document per line (as OTLP file exporters write).
  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (whole) {
      const lines = text.split("\n").filter(function (line) { return line.trim(); });
      if (lines.length < 2) throw new Error("the file is not JSON: " + whole.message);
      return lines.map(function (line, index) {
        try { return JSON.parse(line); } catch (error) { throw new Error("line " + (index + 1) + " is not JSON: " + error.message); }
      });
    }
  }

  function isObject(value) { return typeof value === "object" && value !== null && !Array.isArray(value); }

  // The file's traces in Jaeger's shape; ``text`` is the file, sent as it is when it is one OTLP document.
  async function traces(parsed, text) {
    if (Array.isArray(parsed) && parsed.length && parsed.every(function (d) { return isObject(d) && "resourceSpans" in d; })) {
      parsed = { resourceSpans: [].concat.apply([], parsed.map(function (d) { return d.resourceSpans; })) };
      text = JSON.stringify(parsed);
    }
    if (isObject(parsed) && "resourceSpans" in parsed) {
      const response = await fetch("/api/transform", { method: "POST", headers: { "Content-Type": "application/json" }, body: text });
      const body = await response.json().catch(function () { return null; });
      if (!response.ok) throw new Error("the OTLP file was refused: " + ((body && body.errors && body.errors[0].msg) || response.status + " " + response.statusText));
      return body.data;
    }
    if (isObject(parsed) && Array.isArray(parsed.data)) return parsed.data;
    throw new Error('the file is neither Jaeger JSON ({"data": [traces]}) nor OTLP JSON ({"resourceSpans": [...]})');
  }

  // Every field the views read, with its type; lists a span may omit are filled in.
  function check(trace, t) {
    const where = "trace " + (t + 1);
    if (!isObject(trace) || !Array.isArray(trace.spans)) throw new Error(where + " has no spans list");
    if (!trace.spans.length) throw new Error(where + " has no spans");
    if (!isObject(trace.processes)) throw new Error(where + " has no processes object");
    trace.spans.forEach(function (span, s) {
      const at = where + ", span " + (s + 1);
      if (!isObject(span)) throw new Error(at + " is not an object");
      for (const key of ["traceID", "spanID", "operationName", "processID"]) {
        if (typeof span[key] !== "string") throw new Error(at + ": " + key + " must be a string");
      }
      for (const key of ["startTime", "duration"]) {
        if (typeof span[key] !== "number" || !isFinite(span[key]) || span[key] < 0) throw new Error(at + ": " + key + " must be a number of microseconds");
      }
      if (!isObject(trace.processes[span.processID])) throw new Error(at + ": process " + span.processID + " is not in the trace's processes");
      for (const key of ["references", "tags", "logs"]) {
        if (span[key] === undefined || span[key] === null) span[key] = [];
        else if (!Array.isArray(span[key])) throw new Error(at + ": " + key + " must be a list");
      }
    });
    loops(trace, where);
    for (const id in trace.processes) {
      const process = trace.processes[id];
      if (typeof process.serviceName !== "string") throw new Error(where + ": process " + id + " has no serviceName");
      if (!Array.isArray(process.tags)) process.tags = [];
    }
    return trace;
  }

  // A chain of parents that comes back to itself would leave spans out of every view: refuse it.
  function loops(trace, where) {
    const parentOf = new Map();
    for (const span of trace.spans) {
      const ref = span.references.find(function (r) { return isObject(r) && r.refType === "CHILD_OF" && r.traceID === span.traceID; });
      if (ref) parentOf.set(span.spanID, ref.spanID);
    }
    const done = new Set();
    for (const span of trace.spans) {
      const path = new Set();
      for (let id = span.spanID; parentOf.has(id) && !done.has(id); id = parentOf.get(id)) {
        if (path.has(id)) throw new Error(where + ": span " + id + " is its own ancestor (its parent references loop)");
        path.add(id);
      }
      path.forEach(function (id) { done.add(id); });
    }
  }

  // Only what the server reads to find the path (ids, references, name, times, the "error" and "span.kind" tags; any
  // tag that is not an object, so that it is refused as before): the whole trace is megabytes to stringify and post.
  function pathInput(span) {
    const tags = span.tags.filter(function (tag) { return !isObject(tag) || tag.key === "error" || tag.key === "span.kind"; });
    return { traceID: span.traceID, spanID: span.spanID, operationName: span.operationName, references: span.references, startTime: span.startTime, duration: span.duration, tags: tags };
  }

  async function criticalPath(trace) {
    try {
      const sent = JSON.stringify({ spans: trace.spans.map(pathInput) });
      const response = await fetch("/upload/critical-path", { method: "POST", headers: { "Content-Type": "application/json" }, body: sent });
      const body = await response.json();
      return response.ok ? body : { segments: [], problem: "no critical path: " + body.error };
    } catch (error) {
      return { segments: [], problem: "no critical path: " + error.message };
    }
  }

  function facts(model) {
    const root = model.order[0];
    let depth = 0, errors = 0;
    for (const span of model.order) { depth = Math.max(depth, span.depth + 1); errors += span.isError ? 1 : 0; }
    const set = function (id, text) { document.getElementById(id).textContent = text; };
    set("root-service", root.service);
    set("root-operation", root.operationName);
    set("trace-id", root.traceID);
    set("trace-start", new Date(model.start / 1000).toLocaleString());
    set("trace-duration", TraceUI.formatDuration(model.duration));
    set("service-count", model.services.length);
    set("trace-depth", depth);
    set("span-count", model.order.length);
    set("error-count", errors);
  }

  // Draw at once; the critical path is added when the server has found it (unless another trace is shown by then).
  async function show(trace) {
    const request = criticalPath(trace);
    root.replaceChildren(document.getElementById("trace-template").content.cloneNode(true));
    const page = TraceUI.mountTrace(root, trace, null);
    facts(page.model);
    showing = page;
    const critical = await request;
    if (showing === page) page.setCritical(critical);
  }

  function listTraces(all) {
    list.replaceChildren();
    all.forEach(function (trace) {
      let first = trace.spans[0], end = 0;
      for (const span of trace.spans) {
        if (span.startTime < first.startTime) first = span;
        end = Math.max(end, span.startTime + span.duration);
      }
      const item = TraceUI.el("li", "upload-trace");
      const button = TraceUI.el("button", "", "");
      button.type = "button";
      button.append(TraceUI.el("span", "svc", trace.processes[first.processID].serviceName), document.createTextNode(": "),
        TraceUI.el("span", "op", first.operationName));
      button.addEventListener("click", function () {
        list.querySelectorAll("li").forEach(function (li) { li.classList.remove("active"); });
        item.classList.add("active");
        show(trace);
      });
      item.append(button, TraceUI.el("span", "meta", trace.spans.length + " spans · " + TraceUI.formatDuration(end - first.startTime)));
      list.appendChild(item);
    });
    list.hidden = all.length < 2;
    list.firstChild.classList.add("active");
  }

  async function open(file) {
    problem.hidden = true;
    try {
      const text = await file.text();
      const all = (await traces(parse(text), text)).map(check);
      if (!all.length) throw new Error("the file holds no traces");
      listTraces(all);
      await show(all[0]);
    } catch (error) {
      fail(file.name + ": " + error.message);
    }
  }

  input.addEventListener("change", function () { if (input.files.length) open(input.files[0]); });
  zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) open(event.dataTransfer.files[0]);
  });
})();

