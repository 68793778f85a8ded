// The ride-ordering page: one dispatch per click, one line per dispatch, links into the trace UI
// (or, when the dispatch was not sampled, a note saying so: its trace does not exist).
// Every value is written with textContent or as an attribute, never as HTML.
"use strict";

const sessionId = String(Math.floor(Math.random() * 10000));
let requestCount = 0;
let traceUi = null;

document.getElementById("session-id").textContent = sessionId;
fetch("/config").then((r) => r.json()).then((c) => { traceUi = c.trace_ui_url; }).catch(() => {});

// traceresponse: version-traceid-spanid-flags (W3C Trace Context Level 2); flag bit 0 = sampled
function traceOf(header) {
  const match = /^\s*[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})\s*$/.exec(header || "");
  if (!match || /^0+$/.test(match[1])) return null;
  return { id: match[1], sampled: (parseInt(match[2], 16) & 1) === 1 };
}

function sampledOut(item) {
  const note = document.createElement("span");
  note.className = "sampled-out";
  note.textContent = " [sampled out: under load the sampling probability fell, so this dispatch was not traced]";
  item.appendChild(note);
}

function link(text, href) {
  const a = document.createElement("a");
  a.textContent = "[" + text + "]";
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener";
  return a;
}

function traceLinks(item, requestId, traceId) {
  if (!traceUi) return;
  const tags = encodeURIComponent(JSON.stringify({ request: requestId }));
  item.appendChild(link("find trace", traceUi + "/search?service=frontend&limit=20&lookback=1h&tags=" + tags));
  if (traceId) item.appendChild(link("open trace", traceUi + "/trace/" + traceId));
}

async function dispatch(customer) {
  requestCount += 1;
  const requestId = sessionId + "-" + requestCount;
  const item = document.createElement("li");
  const text = document.createElement("span");
  text.textContent = "Dispatching a car... [req: " + requestId + "]";
  item.appendChild(text);
  document.getElementById("log").prepend(item);
  const started = Date.now();
  try {
    const reply = await fetch("/dispatch?customer=" + encodeURIComponent(customer), {
      headers: { baggage: "session=" + sessionId + ",request=" + requestId },
    });
    const latency = Date.now() - started;
    const trace = traceOf(reply.headers.get("traceresponse"));
    const body = await reply.json();
    if (reply.ok) {
      const minutes = Math.round(body.eta_seconds / 60);
      text.textContent = "HotROD " + body.driver + " arriving in " + minutes + " min" +
        " [req: " + requestId + ", latency: " + latency + " ms]";
    } else {
      item.className = "error";
      text.textContent = "Dispatch failed: " + (body.error || reply.status) +
        " [req: " + requestId + ", latency: " + latency + " ms]";
    }
    if (trace && !trace.sampled) sampledOut(item);
    else traceLinks(item, requestId, trace && trace.id);
  } catch (err) {
    item.className = "error";
    text.textContent = "Dispatch failed: " + err + " [req: " + requestId + "]";
  }
}

document.querySelectorAll("button[data-customer]").forEach((button) => {
  button.addEventListener("click", () => dispatch(button.dataset.customer));
});
