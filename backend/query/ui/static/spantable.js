// The spans table: every span as a row (service, operation, duration, self time, start offset, status
// and one attribute chosen by the reader), sortable by any column and filtered by text, errors and the
// page's service filter. Rows are virtualised like the timeline's, so 10,000 spans stay quick.
// Order, attribute, text and errors-only are kept in the URL (?order=, ?attr=, ?filter=, ?errors=1).
"use strict";

TraceUI.TABLE_COLUMNS = [
  ["service", "Service"], ["operation", "Operation"], ["duration", "Duration"], ["self", "Self time"],
  ["start", "Start"], ["status", "Status"], ["attr", "Attribute"],
];

TraceUI.SpanTable = function (model, container, page) {
  const params = TraceUI.pageParams();
  const order = params.get("order") || "start";
  this.model = model;
  this.page = page;
  this.sort = order.replace(/^-/, "");
  if (!TraceUI.TABLE_COLUMNS.some(function (c) { return c[0] === this.sort; }, this)) this.sort = "start";
  this.descending = order.charAt(0) === "-";
  const keys = new Set();
  for (const span of model.order) for (const tag of span.tags || []) keys.add(tag.key);
  this.keys = Array.from(keys).sort();
  this.attr = this.keys.indexOf(params.get("attr")) >= 0 ? params.get("attr") : "";

  const controls = TraceUI.el("div", "view-controls");
  this.filter = document.createElement("input");
  this.filter.id = "span-filter";
  this.filter.type = "search";
  this.filter.placeholder = "Filter: service, operation or attribute value";
  this.filter.value = params.get("filter") || "";
  this.errorsOnly = document.createElement("input");
  this.errorsOnly.type = "checkbox";
  this.errorsOnly.id = "errors-only";
  this.errorsOnly.checked = params.get("errors") === "1";
  const errorsLabel = TraceUI.el("label", "", " errors only");
  errorsLabel.prepend(this.errorsOnly);
  this.attrSelect = document.createElement("select");
  this.attrSelect.id = "attr-column";
  this.attrSelect.appendChild(new Option("(choose an attribute)", ""));
  for (const key of this.keys) this.attrSelect.appendChild(new Option(key, key));
  this.attrSelect.value = this.attr;
  const attrLabel = TraceUI.el("label", "", "Attribute column ");
  attrLabel.appendChild(this.attrSelect);
  this.count = TraceUI.el("span", "table-count");
  this.count.id = "span-table-count";
  controls.append(this.filter, errorsLabel, attrLabel, this.count);

  this.head = TraceUI.el("div", "span-table-head");
  this.box = TraceUI.el("div", "span-table-box");
  this.box.id = "span-table-body";
  this.spacer = TraceUI.el("div", "spacer");
  this.rows = TraceUI.el("div", "rows");
  this.box.append(this.spacer, this.rows);
  container.replaceChildren(controls, this.head, this.box);

  const self = this;
  this.filter.addEventListener("input", function () { TraceUI.setParams({ filter: self.filter.value || null }); self.refresh(); });
  this.errorsOnly.addEventListener("change", function () { TraceUI.setParams({ errors: self.errorsOnly.checked ? "1" : null }); self.refresh(); });
  this.attrSelect.addEventListener("change", function () {
    self.attr = self.attrSelect.value;
    TraceUI.setParams({ attr: self.attr || null });
    self.refresh();
  });
  this.head.addEventListener("click", function (event) {
    const cell = event.target.closest("[data-sort]");
    if (!cell) return;
    self.descending = cell.dataset.sort === self.sort ? !self.descending : ["duration", "self"].indexOf(cell.dataset.sort) >= 0;
    self.sort = cell.dataset.sort;
    TraceUI.setParams({ order: (self.descending ? "-" : "") + self.sort });
    self.refresh();
  });
  this.rows.addEventListener("click", function (event) {
    const row = event.target.closest(".trow");
    if (row) page.select(model.byId.get(row.dataset.spanId));
  });
  let pending = false;
  this.box.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; self.draw(); });
  });
  this.refresh();
};

TraceUI.SpanTable.prototype.attrValue = function (span) {
  if (!this.attr) return "";
  const tag = (span.tags || []).find(function (t) { return t.key === this.attr; }, this);
  return tag ? TraceUI.tagText(tag.value) : "";
};

TraceUI.SpanTable.prototype.value = function (span, key) {
  switch (key) {
    case "service": return span.service;
    case "operation": return span.operationName;
    case "duration": return span.duration;
    case "self": return span.selfTime;
    case "start": return span.startTime;
    case "status": return span.status;
    default: return this.attrValue(span);
  }
};

TraceUI.SpanTable.prototype.refresh = function () {
  const shown = this.page.shown;
  const text = this.filter.value.trim().toLowerCase();
  const errorsOnly = this.errorsOnly.checked;
  const self = this;
  const spans = this.model.order.filter(function (span) {
    if (shown.size && !shown.has(span.service)) return false;
    if (errorsOnly && !span.isError) return false;
    if (!text) return true;
    return span.service.toLowerCase().indexOf(text) >= 0 || span.operationName.toLowerCase().indexOf(text) >= 0 ||
      (span.tags || []).some(function (t) { return TraceUI.tagText(t.value).toLowerCase().indexOf(text) >= 0; });
  });
  const key = this.sort, sign = this.descending ? -1 : 1;
  const keyed = spans.map(function (span) { return [self.value(span, key), span]; });
  keyed.sort(function (a, b) {
    const result = typeof a[0] === "string" ? a[0].localeCompare(b[0]) : a[0] - b[0];
    return sign * result || a[1].index - b[1].index;
  });
  this.visible = keyed.map(function (pair) { return pair[1]; });
  this.count.textContent = this.visible.length + " of " + this.model.order.length + " spans";
  this.drawHead();
  this.spacer.style.height = this.visible.length * TraceUI.ROW_HEIGHT + "px";
  this.draw();
};

TraceUI.SpanTable.prototype.drawHead = function () {
  const cells = TraceUI.TABLE_COLUMNS.map(function (column) {
    const label = column[0] === "attr" ? this.attr || "Attribute" : column[1];
    const cell = TraceUI.el("div", "tcell " + column[0], label + (column[0] === this.sort ? (this.descending ? " ▾" : " ▴") : ""));
    cell.dataset.sort = column[0];
    cell.title = "Sort by " + label;
    return cell;
  }, this);
  this.head.replaceChildren.apply(this.head, cells);
};

TraceUI.SpanTable.prototype.draw = function () {
  const height = TraceUI.ROW_HEIGHT, model = this.model;
  const first = Math.max(0, Math.floor(this.box.scrollTop / height) - 10);
  const last = Math.min(this.visible.length, first + Math.ceil((this.box.clientHeight || 600) / height) + 20);
  const fragment = document.createDocumentFragment();
  for (let i = first; i < last; i++) {
    const span = this.visible[i];
    const row = TraceUI.el("div", "trow" + (span.isError ? " error" : ""));
    row.dataset.spanId = span.spanID;
    row.style.top = i * height + "px";
    const service = TraceUI.el("div", "tcell service");
    const swatch = TraceUI.el("span", "swatch");
    swatch.style.background = model.colour(span.service);
    service.append(swatch, TraceUI.el("span", "svc", span.service));
    row.append(
      service,
      TraceUI.el("div", "tcell operation", span.operationName),
      TraceUI.el("div", "tcell duration num", TraceUI.formatDuration(span.duration)),
      TraceUI.el("div", "tcell self num", TraceUI.formatDuration(span.selfTime)),
      TraceUI.el("div", "tcell start num", "+" + TraceUI.formatDuration(span.startTime - model.start)),
      TraceUI.el("div", "tcell status status-" + span.status, span.status),
      TraceUI.el("div", "tcell attr", this.attrValue(span))
    );
    fragment.appendChild(row);
  }
  this.rows.replaceChildren(fragment);
};
