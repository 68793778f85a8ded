// The trace page: reads the embedded trace, draws the timeline, switches views, opens details.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("trace-data").textContent);
  const critical = JSON.parse(document.getElementById("critical-data").textContent);
  const model = TraceUI.buildModel(data, critical);
  let timeline = null;
  const drawn = {};

  function select(span) {
    TraceUI.showDetails(model, span, select);
    if (history.replaceState) history.replaceState(null, "", "#" + span.spanID);
    timeline.reveal(span);
  }

  timeline = new TraceUI.Timeline(model, select);
  TraceUI.bindCopy(document.body);

  function show(view) {
    document.querySelectorAll(".view-tab").forEach(function (tab) { tab.classList.toggle("active", tab.dataset.view === view); });
    document.querySelectorAll(".view").forEach(function (section) { section.hidden = section.id !== "view-" + view; });
    if (view === "flame" && !drawn.flame) { TraceUI.drawFlame(model, document.getElementById("flame"), select); drawn.flame = true; }
    if (view === "events" && !drawn.events) { TraceUI.drawEvents(model, document.getElementById("events"), select); drawn.events = true; }
    if (view === "timeline") timeline.draw();
  }
  document.querySelectorAll(".view-tab").forEach(function (tab) {
    tab.addEventListener("click", function () { show(tab.dataset.view); });
  });

  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && model.byId.has(wanted)) select(model.byId.get(wanted));
})();
