// The waterfall: one row per visible span, virtualised (only rows in view are in the page), so a
// 10,000-span trace scrolls as easily as a small one. Subtrees collapse; the critical path is
// drawn as dark segments on the bars.
"use strict";

TraceUI.ROW_HEIGHT = 24;

TraceUI.Timeline = function (model, onSelect) {
  this.model = model;
  this.onSelect = onSelect;
  this.collapsed = new Set();
  this.selected = null;
  this.box = document.getElementById("waterfall");
  this.spacer = document.getElementById("spacer");
  this.rows = TraceUI.el("div", "rows");
  this.box.appendChild(this.rows);
  this.drawRuler();
  this.refresh();
  const self = this;
  let pending = false;
  this.box.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; self.draw(); });
  });
  window.addEventListener("resize", function () { self.draw(); });
  this.rows.addEventListener("click", function (event) { self.click(event); });
};

TraceUI.Timeline.prototype.drawRuler = function () {
  const ruler = document.getElementById("ruler");
  ruler.appendChild(TraceUI.el("div", "ruler-label", "Service: operation"));
  const scale = TraceUI.el("div", "ruler-scale");
  for (let i = 0; i <= 4; i++) {
    const tick = TraceUI.el("span", "tick", TraceUI.formatDuration((this.model.duration * i) / 4));
    tick.style.left = i * 25 + "%";
    scale.appendChild(tick);
  }
  ruler.appendChild(scale);
};

// Show only the spans of these services (an empty set: all); each run of other spans folds into one row.
TraceUI.Timeline.prototype.setShown = function (shown) {
  this.shown = shown;
  this.refresh();
};

// Recompute which spans are visible (collapsed subtrees skipped, filtered-out runs folded), then draw.
TraceUI.Timeline.prototype.refresh = function () {
  const order = this.model.order;
  const shown = this.shown && this.shown.size ? this.shown : null;
  const visible = [];
  for (let i = 0; i < order.length; ) {
    const span = order[i];
    if (shown && !shown.has(span.service)) {
      const last = visible[visible.length - 1];
      if (last && last.folded) last.count += 1;
      else visible.push({ folded: true, count: 1, depth: span.depth });
    } else {
      visible.push(span);
    }
    i = this.collapsed.has(span.spanID) ? this.model.subtreeEnd[i] + 1 : i + 1;
  }
  this.visible = visible;
  this.spacer.style.height = visible.length * TraceUI.ROW_HEIGHT + "px";
  this.draw();
};

TraceUI.Timeline.prototype.draw = function () {
  const height = TraceUI.ROW_HEIGHT;
  const first = Math.max(0, Math.floor(this.box.scrollTop / height) - 10);
  const last = Math.min(this.visible.length, first + Math.ceil((this.box.clientHeight || 600) / height) + 20);
  const fragment = document.createDocumentFragment();
  for (let i = first; i < last; i++) fragment.appendChild(this.row(this.visible[i], i));
  this.rows.replaceChildren(fragment);
};

TraceUI.Timeline.prototype.row = function (span, position) {
  const model = this.model;
  if (span.folded) return this.foldedRow(span, position);
  const row = TraceUI.el("div", "row");
  row.dataset.spanId = span.spanID;
  row.style.top = position * TraceUI.ROW_HEIGHT + "px";
  if (span.isError) row.classList.add("error");
  if (this.selected === span.spanID) row.classList.add("selected");
  if (model.critical.has(span.spanID)) row.classList.add("critical");

  const label = TraceUI.el("div", "label");
  label.style.paddingLeft = 4 + Math.min(span.depth, 40) * 12 + "px";
  if (span.childCount) {
    const toggle = TraceUI.el("button", "toggle", this.collapsed.has(span.spanID) ? "▸" : "▾");
    toggle.type = "button";
    toggle.title = (this.collapsed.has(span.spanID) ? "Expand " : "Collapse ") + span.childCount + " children";
    label.appendChild(toggle);
  } else {
    label.appendChild(TraceUI.el("span", "toggle-space"));
  }
  const swatch = TraceUI.el("span", "swatch");
  swatch.style.background = model.colour(span.service);
  label.appendChild(swatch);
  if (span.isError) label.appendChild(TraceUI.el("span", "error-mark", "!"));
  label.appendChild(TraceUI.el("span", "svc", span.service));
  label.appendChild(TraceUI.el("span", "op", span.operationName));
  row.appendChild(label);

  const left = ((span.startTime - model.start) / model.duration) * 100;
  const width = Math.max((span.duration / model.duration) * 100, 0.15);
  const bar = TraceUI.svg("svg", { class: "bar", preserveAspectRatio: "none" });
  bar.appendChild(TraceUI.svg("rect", { class: "span-bar", x: left + "%", y: 5, width: width + "%", height: 14, fill: model.colour(span.service) }));
  for (const [start, end] of model.critical.get(span.spanID) || []) {
    const x = ((start - model.start) / model.duration) * 100;
    const w = Math.max(((end - start) / model.duration) * 100, 0.1);
    bar.appendChild(TraceUI.svg("rect", { class: "critical-segment", x: x + "%", y: 9, width: w + "%", height: 6 }));
  }
  const text = TraceUI.svg("text", { class: "bar-label", y: 16 });
  text.textContent = TraceUI.formatDuration(span.duration);
  if (left + width > 80) {
    text.setAttribute("x", Math.max(left - 0.5, 0) + "%");
    text.setAttribute("text-anchor", "end");
  } else {
    text.setAttribute("x", left + width + 0.5 + "%");
  }
  bar.appendChild(text);
  row.appendChild(bar);
  return row;
};

TraceUI.Timeline.prototype.foldedRow = function (run, position) {
  const row = TraceUI.el("div", "row folded");
  row.style.top = position * TraceUI.ROW_HEIGHT + "px";
  const label = TraceUI.el("div", "label", "⋯ " + run.count + (run.count === 1 ? " span" : " spans") + " of other services");
  label.style.paddingLeft = 24 + Math.min(run.depth, 40) * 12 + "px";
  row.appendChild(label);
  return row;
};

TraceUI.Timeline.prototype.click = function (event) {
  const row = event.target.closest(".row");
  if (!row || !row.dataset.spanId) return;
  const span = this.model.byId.get(row.dataset.spanId);
  if (event.target.closest(".toggle")) {
    if (this.collapsed.has(span.spanID)) this.collapsed.delete(span.spanID);
    else this.collapsed.add(span.spanID);
    this.refresh();
    return;
  }
  this.onSelect(span);
};

// Mark a span as selected and scroll it into view, expanding collapsed ancestors.
TraceUI.Timeline.prototype.reveal = function (span) {
  for (let parent = span.parentID; parent; parent = this.model.byId.get(parent).parentID) this.collapsed.delete(parent);
  this.selected = span.spanID;
  this.refresh();
  const position = this.visible.indexOf(span);
  if (position < 0) return;  // its service is filtered out
  const top = position * TraceUI.ROW_HEIGHT;
  if (top < this.box.scrollTop || top > this.box.scrollTop + this.box.clientHeight - TraceUI.ROW_HEIGHT) {
    this.box.scrollTop = Math.max(0, top - this.box.clientHeight / 3);
  }
  this.draw();
};
