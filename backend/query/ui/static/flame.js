// The flame graph: each span a box under its parent, width its share of the trace's time,
// drawn into a single SVG when the view is opened (again when the service filter changes).
// Spans of services the filter leaves out are not drawn: their place stays empty.
"use strict";

TraceUI.drawFlame = function (model, container, onSelect, shown) {
  const WIDTH = Math.max(container.clientWidth - 8, 600), ROW = 18;
  let depth = 0;
  for (const span of model.order) depth = Math.max(depth, span.depth);
  const graph = TraceUI.svg("svg", { class: "flame-graph", viewBox: "0 0 " + WIDTH + " " + (depth + 1) * ROW, width: "100%" });
  graph.style.height = (depth + 1) * ROW + "px";
  const fragment = document.createDocumentFragment();
  let hidden = 0;
  for (const span of model.order) {
    if (!TraceUI.isShown(shown, span)) { hidden += 1; continue; }
    const x = ((span.startTime - model.start) / model.duration) * WIDTH;
    const w = Math.max((span.duration / model.duration) * WIDTH, 0.5);
    const group = TraceUI.svg("g", { class: "flame-box" + (span.isError ? " error" : ""), "data-span-id": span.spanID });
    group.appendChild(TraceUI.svg("rect", { x: x, y: span.depth * ROW, width: w, height: ROW - 1, fill: model.colour(span.service) }));
    const title = TraceUI.svg("title", {});
    title.textContent = span.service + ": " + span.operationName + " (" + TraceUI.formatDuration(span.duration) + ")";
    group.appendChild(title);
    if (w > 50) {
      const label = TraceUI.svg("text", { x: x + 3, y: span.depth * ROW + 13 });
      const text = span.operationName;
      label.textContent = text.length > w / 7 ? text.slice(0, Math.max(Math.floor(w / 7) - 1, 1)) + "…" : text;
      group.appendChild(label);
    }
    fragment.appendChild(group);
  }
  graph.appendChild(fragment);
  graph.addEventListener("click", function (event) {
    const box = event.target.closest(".flame-box");
    if (box) onSelect(model.byId.get(box.getAttribute("data-span-id")));
  });
  container.replaceChildren(graph);
  if (hidden) container.prepend(TraceUI.el("p", "hint filtered-note", hidden + " spans of other services hidden by the service filter."));
};
