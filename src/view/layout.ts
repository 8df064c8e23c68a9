import type { GraphPhase, GraphState, MachineGraph } from "../graph/machine-graph.js";

/** A state placed on the page, in SVG user units. */
export interface PlacedState extends GraphState {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A transition as an SVG path (`d`), ending at the edge of its target's box. */
export interface PlacedTransition {
  source: string;
  target: string;
  event: string;
  kind: "success" | "failure";
  d: string;
}

/** What the page draws: sizes and positions only, so the browser needs no layout code. */
export interface ViewLayout {
  width: number;
  height: number;
  states: PlacedState[];
  transitions: PlacedTransition[];
  fromAnyState: MachineGraph["fromAnyState"];
}

const BOX = { w: 168, h: 32 };
const GAP = { col: 96, row: 18 };
const PAD = 24;

/**
 * Lays the machine out in columns: the abort chain on the left, the forward chain (idle to
 * completed) in the middle, the rollback chain on the right, each chain top to bottom and
 * starting on the row of the first state that fails into it. States no chain reaches (`failed`,
 * `abandoned`) go below or beside the chains their transitions come from.
 */
export function layoutGraph(graph: MachineGraph): ViewLayout {
  const next = new Map<string, string>();
  for (const t of graph.transitions) if (t.kind === "success" && !next.has(t.source)) next.set(t.source, t.target);
  const phases = new Set(graph.states.map((s) => s.phase));
  const colOf: Partial<Record<GraphPhase, number>> = phases.has("abort")
    ? { abort: 0, forward: 1, rollback: 2 }
    : { forward: 0, rollback: 1 };
  const lastCol = Math.max(...Object.values(colOf));
  const cell = new Map<string, { col: number; row: number }>();
  const taken = new Set<string>();
  const put = (id: string, col: number, row: number) => {
    while (taken.has(`${col}:${row}`)) row++;
    cell.set(id, { col, row });
    taken.add(`${col}:${row}`);
    return row;
  };
  const chain = (start: string, col: number, row: number) => {
    for (let id: string | undefined = start; id && !cell.has(id); id = next.get(id)) row = put(id, col, row) + 1;
  };
  const sourcesOf = (id: string) => graph.transitions.filter((t) => t.target === id && cell.has(t.source)).map((t) => cell.get(t.source)!);

  chain(graph.initial, colOf.forward ?? 0, 0);
  for (const phase of ["abort", "rollback"] as const) {
    const members = graph.states.filter((s) => s.phase === phase).map((s) => s.id);
    const entered = new Set(graph.transitions.filter((t) => t.kind === "success" && members.includes(t.source)).map((t) => t.target));
    for (const head of members.filter((m) => !entered.has(m) && !cell.has(m))) {
      const rows = sourcesOf(head).map((c) => c.row);
      chain(head, colOf[phase] ?? lastCol, rows.length ? Math.min(...rows) : 0);
    }
  }
  for (const s of graph.states.filter((s) => !cell.has(s.id))) {
    const sources = sourcesOf(s.id);
    const cols = new Set(sources.map((c) => c.col));
    const col = sources.length === 0 ? lastCol : cols.size === 1 ? [...cols][0]! : (colOf.forward ?? 0);
    put(s.id, col, sources.length ? Math.max(...sources.map((c) => c.row)) + 1 : 0);
  }

  const states: PlacedState[] = graph.states.map((s) => {
    const c = cell.get(s.id)!;
    return { ...s, x: PAD + c.col * (BOX.w + GAP.col), y: PAD + c.row * (BOX.h + GAP.row), ...BOX };
  });
  const byId = new Map(states.map((s) => [s.id, s]));
  const drawn = new Set<string>();
  const transitions = graph.transitions.map((t) => {
    const pair = `${t.source}>${t.target}`;
    const d = pathBetween(byId.get(t.source)!, byId.get(t.target)!, drawn.has(pair), cell.get(t.source)!.col === 0);
    drawn.add(pair);
    return { source: t.source, target: t.target, event: t.event, kind: t.kind, d };
  });
  const width = PAD * 2 + (lastCol + 1) * BOX.w + lastCol * GAP.col;
  const height = PAD * 2 + Math.max(...states.map((s) => s.y + s.h)) - PAD;
  return { width, height, states, transitions, fromAnyState: graph.fromAnyState };
}

function pathBetween(a: PlacedState, b: PlacedState, second: boolean, leftmost: boolean): string {
  const r = (n: number) => Math.round(n);
  if (a.x === b.x) {
    if (b.y === a.y + a.h + GAP.row && !second) return `M${r(a.x + a.w / 2)},${a.y + a.h} L${r(b.x + b.w / 2)},${b.y}`;
    // Same column, not adjacent (or a second edge between the same pair): bulge to the outside.
    const side = leftmost ? a.x : a.x + a.w;
    const bulge = (leftmost ? -1 : 1) * (second ? 28 : 44);
    return `M${side},${r(a.y + a.h / 2)} C${side + bulge},${r(a.y + a.h / 2)} ${side + bulge},${r(b.y + b.h / 2)} ${side},${r(b.y + b.h / 2)}`;
  }
  const right = b.x > a.x;
  const sx = right ? a.x + a.w : a.x;
  const tx = right ? b.x : b.x + b.w;
  const sy = r(a.y + a.h / 2);
  const ty = r(b.y + b.h / 2);
  const mid = (sx + tx) / 2;
  return `M${sx},${sy} C${r(mid)},${sy} ${r(mid)},${ty} ${tx},${ty}`;
}
