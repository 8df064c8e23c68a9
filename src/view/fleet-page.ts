import type { RolloutStatus } from "../fleet/status.js";
import { escapeHtml } from "./assets.js";

/** The page of a target's run: its run view, below the fleet page, pinned to `runId`. */
export function targetHref(name: string, runId: string, token: string): string {
  return `target/${encodeURIComponent(name)}/?${new URLSearchParams({ token, run: runId })}`;
}

/**
 * The fleet page's body for a rollout's status: a line with the rollout, its state and version,
 * then one row per wave and one cell per target, its class `state-<state>` (the colour), a link
 * to the target's run view when it has a run. Null: the fleet has no rollout yet.
 */
export function fleetGrid(status: RolloutStatus | null, token: string): string {
  if (!status) return `<p id="rollout" class="rollout" data-state="none">no rollout yet</p>`;
  const e = escapeHtml;
  const byName = new Map(status.targets.map((t) => [t.name, t]));
  const ending = status.ending ? ` (ending ${e(status.ending)})` : "";
  const head =
    `<p id="rollout" class="rollout" data-rollout="${e(status.rollout)}" data-state="${e(status.state)}">` +
    `rollout <code>${e(status.rollout)}</code> to <strong>${e(status.toVersion)}</strong>: ` +
    `<span class="badge state-${e(status.state)}">${e(status.state)}${ending}</span></p>`;
  const rows = status.waves.map((w) => {
    const cells = w.targets.map((name) => {
      const t = byName.get(name);
      const state = t?.state ?? "pending";
      const attrs = `class="cell state-${e(state)}" data-target="${e(name)}" data-state="${e(state)}" title="${e(name)}: ${e(state)}"`;
      const inner = `<span class="name">${e(name)}</span><span class="state">${e(state)}</span>`;
      return t?.runId
        ? `<a ${attrs} data-run="${e(t.runId)}" href="${e(targetHref(name, t.runId, token))}">${inner}</a>`
        : `<span ${attrs}>${inner}</span>`;
    });
    return (
      `<tr class="wave wave-${e(w.state)}" data-wave="${w.wave}"><th scope="row">wave ${w.wave}` +
      `<span class="wave-info">${e(w.state)} · threshold ${w.threshold}</span></th><td>${cells.join("")}</td></tr>`
    );
  });
  return `${head}<table id="waves" class="waves"><tbody>${rows.join("")}</tbody></table>`;
}
