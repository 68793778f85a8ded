// The Monitor page's tail-sampling section: per tail_sampling processor, how many traces each policy kept
// and dropped, from /api/tail-sampling, redrawn every few seconds.  Names are only ever inserted as text.
"use strict";

(function () {
  const REFRESH_MS = 5000;
  const section = document.getElementById("tail-sampling");
  const holder = document.getElementById("tail-sampling-processors");

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function percent(part, whole) {
    return whole ? (100 * part / whole).toFixed(1) + " %" : "–";
  }

  function processorBlock(processor) {
    const block = document.createElement("div");
    block.className = "tail-processor";
    block.dataset.processor = processor.processor;
    const title = document.createElement("h3");
    title.textContent = processor.processor;
    const total = processor.sampled + processor.notSampled;
    const summary = document.createElement("p");
    summary.className = "tail-summary";
    summary.textContent = "Kept " + processor.sampled + " of " + total + " traces (" + percent(processor.sampled, total) +
      "); decided early (num_traces reached): " + processor.decidedEarly + "; held now: " + processor.tracesOnMemory + ".";
    const table = document.createElement("table");
    table.className = "operations tail-policies";
    const head = table.createTHead().insertRow();
    for (const [label, className] of [["Policy", ""], ["Kept", "num"], ["Dropped", "num"], ["Kept %", "num"]]) {
      const th = document.createElement("th");
      th.textContent = label;
      if (className) th.className = className;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const policy of processor.policies) {
      const row = body.insertRow();
      row.dataset.policy = policy.policy;
      cell(row, policy.policy, "policy-name");
      cell(row, String(policy.sampled), "num kept");
      cell(row, String(policy.notSampled), "num dropped");
      cell(row, percent(policy.sampled, policy.sampled + policy.notSampled), "num");
    }
    block.append(title, summary, table);
    return block;
  }

  function show(body) {
    const processors = body.data || [];
    holder.replaceChildren(...processors.map(processorBlock));
    section.hidden = processors.length === 0;
  }

  function refresh() {
    return fetch("/api/tail-sampling")
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function (error) {
        const box = document.createElement("p");
        box.className = "error";
        box.textContent = "Tail-sampling counts unavailable: " + error.message;
        holder.replaceChildren(box);
        section.hidden = false;
      });
  }

  refresh().then(function () {
    document.body.dataset.tailSamplingReady = "true";
    setInterval(refresh, REFRESH_MS);
  });
})();
