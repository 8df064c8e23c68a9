// The live view of upgrade-machine: draws the machine from api/graph, follows the journal
// through events (server-sent events) and lists the run's events. No dependency, no build
// step, nothing fetched from anywhere but this server. Every URL is relative: the fleet page
// serves this page below /target/NAME/.
const SVG = "http://www.w3.org/2000/svg";
const token = new URLSearchParams(location.search).get("token") ?? "";
const withToken = (path, params = {}) => `${path}?${new URLSearchParams({ token, ...params })}`;
const $ = (id) => document.getElementById(id);

// A link from the fleet page pins its run with ?run=.
const view = {
  runId: null,
  pinned: new URLSearchParams(location.search).get("run") ?? "",
  rows: [],
  run: null,
  source: null,
  ticking: null,
};

function svg(tag, attrs = {}, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

function drawGraph(layout) {
  const root = $("diagram");
  root.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
  root.setAttribute("width", layout.width);
  root.setAttribute("height", layout.height);
  const defs = svg("defs", {}, root);
  for (const kind of ["success", "failure"]) {
    const m = svg(
      "marker",
      { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      defs,
    );
    svg("path", { d: "M0,0 L10,5 L0,10 z", class: `arrowhead ${kind}` }, m);
  }
  const edges = svg("g", { class: "edges" }, root);
  for (const t of layout.transitions) {
    const p = svg(
      "path",
      { d: t.d, class: `edge ${t.kind}`, "marker-end": `url(#arrow-${t.kind})`, "data-source": t.source, "data-target": t.target },
      edges,
    );
    svg("title", {}, p).textContent = `${t.source} → ${t.target} on ${t.event}`;
  }
  const nodes = svg("g", { class: "states" }, root);
  for (const s of layout.states) {
    const g = svg("g", { class: `state phase-${s.phase} ${s.type}`, "data-state": s.id, transform: `translate(${s.x},${s.y})` }, nodes);
    svg("rect", { width: s.w, height: s.h, rx: s.type === "final" ? 16 : 6 }, g);
    const label = svg("text", { x: s.w / 2, y: s.h / 2, "dominant-baseline": "central", "text-anchor": "middle" }, g);
    label.textContent = s.id;
    if (s.description) svg("title", {}, g).textContent = s.description;
  }
  $("any-state").textContent = layout.fromAnyState.map((a) => `${a.event}: any unfinished state → ${a.target}`).join("; ");
}

function highlight() {
  const run = view.run;
  const outcome = new Map();
  for (const r of view.rows) {
    if (!r.step) continue;
    if (r.type === "step.started") outcome.set(r.step, "running");
    if (r.type === "step.succeeded") outcome.set(r.step, r.summary?.startsWith("skipped") ? "skipped" : "done");
    if (r.type === "step.failed") outcome.set(r.step, "failed");
  }
  for (const g of document.querySelectorAll("#diagram g.state")) {
    const id = g.dataset.state;
    g.classList.toggle("current", run?.value === id);
    for (const c of ["done", "failed", "skipped", "running"]) g.classList.toggle(c, outcome.get(id) === c);
  }
  document.body.dataset.current = run?.value ?? "";
  const badge = $("run-state");
  badge.dataset.state = run ? (run.state ?? "problem") : "none";
  badge.textContent = run ? (run.state === "running" ? `running: ${run.value}` : (run.state ?? "journal problem")) : "no run yet";
}

function formatDuration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

// Local wall-clock time, formatted by hand: toLocaleTimeString costs ~0.1 ms a row.
const pad = (n, w = 2) => String(n).padStart(w, "0");
function clock(iso) {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function rowElement(r) {
  const tr = document.createElement("tr");
  tr.className = r.type.replace(".", "-");
  tr.dataset.seq = r.seq;
  const cells = [r.seq, clock(r.at), r.type, r.step ?? "", formatDuration(r.durationMs)];
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    td.textContent = String(text);
    if (i === 1) td.title = r.at;
    if (i === 4) td.className = "num";
    tr.appendChild(td);
  });
  const out = document.createElement("td");
  out.className = "output";
  if (r.summary) out.append(r.summary);
  if (r.data !== null && r.data !== undefined) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = r.type === "step.failed" ? "error" : r.type.startsWith("run.") ? "payload" : "output";
    details.appendChild(summary);
    details.dataset.seq = r.seq;
    out.appendChild(details);
  }
  tr.appendChild(out);
  return tr;
}

function appendRows(rows) {
  const wrap = $("table-wrap");
  const atBottom = wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 40;
  const frag = document.createDocumentFragment();
  for (const r of rows) frag.appendChild(rowElement(r));
  $("events").tBodies[0].appendChild(frag);
  view.rows.push(...rows);
  if (atBottom) wrap.scrollTop = wrap.scrollHeight;
  document.body.dataset.rows = String(view.rows.length);
}

function showRun(detail) {
  view.runId = detail.run.runId;
  view.run = detail.run;
  view.rows = [];
  $("events").tBodies[0].replaceChildren();
  appendRows(detail.rows);
  updateRun(detail.run);
}

function updateRun(run) {
  view.run = run;
  const versions = run.fromVersion || run.toVersion ? ` · ${run.fromVersion ?? "?"} → ${run.toVersion ?? "?"}` : "";
  $("run-info").textContent =
    `run ${run.runId} · started ${new Date(run.createdAt).toLocaleString()}${versions} · ${run.eventCount} events`;
  const problem = $("problem");
  problem.hidden = !run.problem;
  problem.textContent = run.problem ? `${run.problem.code}: ${run.problem.message}` : "";
  highlight();
  tickRunning();
  document.body.dataset.ready = "1";
}

function updateRuns(runs) {
  const select = $("run-select");
  const keep = select.value || view.pinned;
  select.replaceChildren(new Option("latest (follow)", ""));
  for (const r of runs) select.appendChild(new Option(`${r.runId} · ${r.state ?? r.problem?.code ?? "?"}`, r.runId));
  select.value = keep;
  if (!runs.length) document.body.dataset.ready = "1";
}

// The step that is running shows how long it has been running, updated every second.
function tickRunning() {
  // A step.started row has no duration of its own: only the last one, still running, shows one.
  if (view.ticking) view.ticking.textContent = "";
  view.ticking = null;
  const last = view.rows[view.rows.length - 1];
  const tr = document.querySelector("#events tbody tr:last-child");
  if (!last || !tr || last.type !== "step.started" || view.run?.state !== "running") return;
  view.ticking = tr.cells[4];
  view.ticking.textContent = `running ${formatDuration(Math.max(0, Date.now() - Date.parse(last.at)))}`;
}

function connect() {
  view.source?.close();
  const source = new EventSource(withToken("events", view.pinned ? { run: view.pinned } : {}));
  view.source = source;
  const status = (s, text) => Object.assign($("connection"), { textContent: text }).setAttribute("data-status", s);
  source.onopen = () => status("live", "live");
  source.onerror = () => status("retrying", "disconnected, retrying…");
  source.addEventListener("runs", (e) => updateRuns(JSON.parse(e.data)));
  source.addEventListener("run", (e) => showRun(JSON.parse(e.data)));
  source.addEventListener("append", (e) => {
    const { run, rows } = JSON.parse(e.data);
    appendRows(rows);
    updateRun(run);
  });
  source.addEventListener("problem", (e) => {
    const p = JSON.parse(e.data);
    Object.assign($("problem"), { hidden: false, textContent: `${p.code}: ${p.message}` });
  });
}

// The output of an event is rendered when its <details> is first opened (one listener for all
// rows: 'toggle' does not bubble, so it is caught on the way down), keeping 10,000 rows quick.
function showOutputs() {
  $("events").addEventListener(
    "toggle",
    (e) => {
      const details = e.target;
      if (!(details instanceof HTMLDetailsElement) || !details.open || details.querySelector("pre")) return;
      const row = view.rows.find((r) => String(r.seq) === details.dataset.seq);
      details.appendChild(document.createElement("pre")).textContent = JSON.stringify(row?.data ?? null, null, 2);
    },
    true,
  );
}

async function main() {
  showOutputs();
  const res = await fetch(withToken("api/graph"));
  drawGraph(await res.json());
  document.body.dataset.graph = "1";
  $("run-select").addEventListener("change", (e) => {
    view.pinned = e.target.value;
    connect();
  });
  connect();
  setInterval(tickRunning, 1000);
}

main().catch((err) => Object.assign($("problem"), { hidden: false, textContent: String(err) }));
