// Every event (log) of the trace in one list, in time order, each linked to its span; only the spans
// of the services the page's filter shows.
"use strict";

TraceUI.EVENT_ROWS_SHOWN = 5000;

TraceUI.drawEvents = function (model, container, onSelect, shown) {
  const all = [];
  for (const span of model.order) {
    if (TraceUI.isShown(shown, span)) for (const log of span.logs || []) all.push([log, span]);
  }
  all.sort(function (a, b) { return a[0].timestamp - b[0].timestamp; });
  container.replaceChildren();
  if (!all.length) {
    const filtered = shown && shown.size ? " of the services the filter shows" : "";
    container.appendChild(TraceUI.el("p", "hint", "No span" + filtered + " in this trace has events."));
    return;
  }
  const table = TraceUI.el("table", "event-list");
  table.id = "event-list";
  const head = table.createTHead().insertRow();
  for (const name of ["Time", "Span", "Event", "Fields"]) head.appendChild(TraceUI.el("th", "", name));
  const body = table.createTBody();
  for (const [log, span] of all.slice(0, TraceUI.EVENT_ROWS_SHOWN)) {
    const row = body.insertRow();
    row.appendChild(TraceUI.el("td", "num", "+" + TraceUI.formatDuration(log.timestamp - model.start)));
    const cell = TraceUI.el("td", "");
    const link = TraceUI.el("a", "", span.service + ": " + span.operationName);
    link.href = "#" + span.spanID;
    link.addEventListener("click", function (event) { event.preventDefault(); onSelect(span); });
    cell.appendChild(link);
    row.appendChild(cell);
    const fields = log.fields || [];
    const name = fields.find(function (f) { return f.key === "event"; });
    row.appendChild(TraceUI.el("td", "event-name", name ? name.value : ""));
    const rest = fields.filter(function (f) { return f !== name; })
      .map(function (f) { return f.key + "=" + (typeof f.value === "object" ? JSON.stringify(f.value) : f.value); });
    row.appendChild(TraceUI.el("td", "fields", rest.join("  ")));
  }
  container.appendChild(table);
  if (all.length > TraceUI.EVENT_ROWS_SHOWN) {
    container.appendChild(TraceUI.el("p", "hint", "Showing the first " + TraceUI.EVENT_ROWS_SHOWN + " of " + all.length + " events."));
  }
};
