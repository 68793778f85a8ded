// The stored trace's page: the trace and its critical path are embedded in the page as JSON.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("trace-data").textContent);
  const critical = JSON.parse(document.getElementById("critical-data").textContent);
  TraceUI.mountTrace(document.getElementById("trace-root"), data, critical);
  TraceUI.bindCopy(document.body);
})();
