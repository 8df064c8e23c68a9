// The fleet page of upgrade-machine: the server renders the rollout's waves and targets; this
// script follows /events (server-sent events) and swaps in each new rendering, so the page stays
// live without a reload. No dependency, nothing fetched from anywhere but this server.
const token = new URLSearchParams(location.search).get("token") ?? "";
const $ = (id) => document.getElementById(id);

function connect() {
  const source = new EventSource(`events?${new URLSearchParams({ token })}`);
  const status = (s, text) => Object.assign($("connection"), { textContent: text }).setAttribute("data-status", s);
  source.onopen = () => status("live", "live");
  source.onerror = () => status("retrying", "disconnected, retrying…");
  source.addEventListener("status", (e) => {
    const { seq, html } = JSON.parse(e.data);
    $("fleet").innerHTML = html; // rendered and escaped by the server (src/view/fleet-page.ts)
    $("problem").hidden = true;
    document.body.dataset.seq = String(seq ?? "");
    document.body.dataset.ready = "1";
  });
  source.addEventListener("problem", (e) => {
    const p = JSON.parse(e.data);
    Object.assign($("problem"), { hidden: false, textContent: `${p.code}: ${p.message}` });
  });
}

connect();
