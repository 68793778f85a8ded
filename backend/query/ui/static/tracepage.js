// One trace on a page: the view tabs, the service filter and the span details, for a stored trace
// (trace.js) or an opened file (upload.js). The view and the filter live in the URL (?view=, ?service=)
// so a link opens the same picture.
"use strict";

TraceUI.VIEWS = ["timeline", "flame", "statistics", "table", "graph", "events"];

TraceUI.pageParams = function () { return new URLSearchParams(location.search); };

// Replace some query parameters in the address bar without reloading (null removes one).
TraceUI.setParams = function (changes) {
  const params = TraceUI.pageParams();
  for (const name in changes) {
    params.delete(name);
    const value = changes[name];
    if (value === null || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, item);
  }
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
};

TraceUI.mountTrace = function (root, data, critical) {
  const model = TraceUI.buildModel(data, critical);
  const params = TraceUI.pageParams();
  const wantedView = params.get("view");
  const shown = new Set(params.getAll("service").filter(function (name) { return model.services.indexOf(name) >= 0; }));
  const page = { model: model, shown: shown, drawn: {} };
  const note = root.querySelector("#critical-note");
  // The critical path may come later (an opened file asks the server for it): null until then.
  page.setCritical = function (found) {
    model.critical = TraceUI.criticalSegments(found);
    note.textContent = !found ? "Finding the critical path…" : found.problem || "Critical path highlighted in dark.";
    page.timeline.refresh();
  };

  function select(span) {
    TraceUI.showDetails(model, span, select);
    if (history.replaceState) history.replaceState(null, "", location.pathname + location.search + "#" + span.spanID);
    page.timeline.reveal(span);
  }
  page.select = select;
  page.timeline = new TraceUI.Timeline(model, select);

  // Each view draws from the spans of the services the filter shows (page.shown).
  const views = {
    flame: function () { TraceUI.drawFlame(model, root.querySelector("#flame"), select, shown); },
    events: function () { TraceUI.drawEvents(model, root.querySelector("#events"), select, shown); },
    statistics: function () { TraceUI.drawStatistics(model, root.querySelector("#statistics"), shown); },
    table: function () { page.table = new TraceUI.SpanTable(model, root.querySelector("#span-table"), page); },
    graph: function () { TraceUI.drawGraph(model, root.querySelector("#graph"), shown); },
  };

  function show(view, remember) {
    page.view = view;
    root.querySelectorAll(".view-tab").forEach(function (tab) { tab.classList.toggle("active", tab.dataset.view === view); });
    root.querySelectorAll(".view").forEach(function (section) { section.hidden = section.id !== "view-" + view; });
    if (views[view] && !page.drawn[view]) { views[view](); page.drawn[view] = true; }
    if (view === "timeline") page.timeline.draw();
    if (remember) TraceUI.setParams({ view: view === "timeline" ? null : view });
  }
  root.querySelectorAll(".view-tab").forEach(function (tab) {
    tab.addEventListener("click", function () { show(tab.dataset.view, true); });
  });

  // A change of the filter: the timeline folds and the table filters in place; the other views are
  // drawn again, the open one now and the rest when next opened.
  TraceUI.serviceFilter(root.querySelector("#service-filter"), model, shown, function () {
    page.timeline.setShown(shown);
    if (page.table) page.table.refresh();
    for (const view of ["flame", "events", "statistics", "graph"]) delete page.drawn[view];
    TraceUI.setParams({ service: shown.size ? Array.from(shown).sort() : null });
    show(page.view, false);
  });
  page.timeline.setShown(shown);
  page.setCritical(critical);

  show(TraceUI.VIEWS.indexOf(wantedView) >= 0 ? wantedView : "timeline", false);
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && model.byId.has(wanted)) select(model.byId.get(wanted));
  return page;
};

// The service filter: a checkbox per service; spans of the unticked ones are folded away in the
// timeline, left out of the span table, statistics, flame graph and events, and collapsed out of the
// graph. No box ticked means every service.
TraceUI.serviceFilter = function (box, model, shown, onChange) {
  const label = box.querySelector(".filter-label");
  const list = box.querySelector(".filter-list");
  list.replaceChildren();
  const describe = function () {
    label.textContent = shown.size ? Array.from(shown).sort().join(", ") : "all";
    box.classList.toggle("active", shown.size > 0);
  };
  for (const name of model.services) {
    const item = TraceUI.el("label", "filter-item");
    const tick = document.createElement("input");
    tick.type = "checkbox";
    tick.value = name;
    tick.checked = shown.has(name);
    const swatch = TraceUI.el("span", "swatch");
    swatch.style.background = model.colour(name);
    item.append(tick, swatch, TraceUI.el("span", "", name));
    list.appendChild(item);
  }
  list.addEventListener("change", function (event) {
    const tick = event.target;
    if (tick.checked) shown.add(tick.value);
    else shown.delete(tick.value);
    describe();
    onChange();
  });
  describe();
};
