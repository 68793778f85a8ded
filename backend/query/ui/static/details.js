// The span details panel: ids (copyable), timing, tags, resource, events and links of one span.
"use strict";

TraceUI.copyButton = function (text) {
  const button = TraceUI.el("button", "copy", "copy");
  button.type = "button";
  button.dataset.copy = text;
  return button;
};

TraceUI.bindCopy = function (root) {
  root.addEventListener("click", function (event) {
    const button = event.target.closest("button.copy");
    if (!button) return;
    const text = button.dataset.copy;
    const done = function () { button.textContent = "copied"; setTimeout(function () { button.textContent = "copy"; }, 1200); };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () { button.textContent = text; });
    else button.textContent = text;
  });
};

function keyValueTable(items, className) {
  const table = TraceUI.el("table", "kv " + (className || ""));
  for (const item of items) {
    const row = table.insertRow();
    row.appendChild(TraceUI.el("th", "", item.key));
    const value = typeof item.value === "object" ? JSON.stringify(item.value) : item.value;
    row.appendChild(TraceUI.el("td", "", value));
  }
  return table;
}

function section(panel, title, count) {
  const box = TraceUI.el("section", "detail-section");
  box.appendChild(TraceUI.el("h3", "", count === undefined ? title : title + " (" + count + ")"));
  panel.appendChild(box);
  return box;
}

TraceUI.showDetails = function (model, span, select) {
  const panel = document.getElementById("span-details");
  panel.hidden = false;
  panel.replaceChildren();
  const close = TraceUI.el("button", "close", "×");
  close.type = "button";
  close.title = "Close";
  close.addEventListener("click", function () { panel.hidden = true; });
  panel.appendChild(close);
  const heading = TraceUI.el("h2", "");
  heading.appendChild(TraceUI.el("span", "svc", span.service));
  heading.appendChild(document.createTextNode(": "));
  heading.appendChild(TraceUI.el("span", "op", span.operationName));
  panel.appendChild(heading);
  if (span.isError) panel.appendChild(TraceUI.el("p", "errors", "error"));

  const ids = TraceUI.el("dl", "ids");
  const idRow = function (label, value) {
    ids.appendChild(TraceUI.el("dt", "", label));
    const dd = TraceUI.el("dd", "");
    dd.appendChild(TraceUI.el("code", "", value));
    dd.appendChild(TraceUI.copyButton(value));
    ids.appendChild(dd);
  };
  idRow("Span ID", span.spanID);
  if (span.parentID) idRow("Parent ID", span.parentID);
  idRow("Trace ID", span.traceID);
  ids.appendChild(TraceUI.el("dt", "", "Start"));
  ids.appendChild(TraceUI.el("dd", "", "+" + TraceUI.formatDuration(span.startTime - model.start)));
  ids.appendChild(TraceUI.el("dt", "", "Duration"));
  ids.appendChild(TraceUI.el("dd", "span-duration", TraceUI.formatDuration(span.duration)));
  panel.appendChild(ids);

  section(panel, "Attributes", span.tags.length).appendChild(keyValueTable(span.tags, "attributes"));
  const process = model.data.processes[span.processID] || { serviceName: "", tags: [] };
  const resource = [{ key: "service.name", value: process.serviceName }].concat(process.tags || []);
  section(panel, "Resource", resource.length).appendChild(keyValueTable(resource, "resource"));

  const logs = span.logs || [];
  const events = section(panel, "Events", logs.length);
  events.classList.add("events");
  for (const log of logs) {
    const item = TraceUI.el("div", "event");
    item.appendChild(TraceUI.el("div", "event-time", "+" + TraceUI.formatDuration(log.timestamp - model.start)));
    item.appendChild(keyValueTable(log.fields || []));
    events.appendChild(item);
  }

  const links = (span.references || []).filter(function (ref) { return ref.spanID !== span.parentID || ref.refType !== "CHILD_OF"; });
  const linkBox = section(panel, "Links", links.length);
  linkBox.classList.add("links");
  for (const ref of links) {
    const line = TraceUI.el("div", "link");
    line.appendChild(TraceUI.el("span", "ref-type", ref.refType + " "));
    const target = TraceUI.el("a", "", ref.traceID + " / " + ref.spanID);
    if (ref.traceID === span.traceID && model.byId.has(ref.spanID)) {
      target.href = "#" + ref.spanID;
      target.addEventListener("click", function (event) { event.preventDefault(); select(model.byId.get(ref.spanID)); });
    } else {
      target.href = "/trace/" + encodeURIComponent(ref.traceID) + "#" + encodeURIComponent(ref.spanID);
    }
    line.appendChild(target);
    linkBox.appendChild(line);
  }
  for (const warning of span.warnings || []) panel.appendChild(TraceUI.el("p", "warning", warning));
};
