import { machineGraph, type MachineGraph } from "./machine-graph.js";
import { PHASE_COLORS } from "./mermaid.js";

/** A DOT identifier or label, quoted and escaped. */
function q(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/**
 * The machine as a Graphviz `digraph` (render with `dot -Tsvg`): states as rounded boxes
 * coloured by phase, final states with a double border, failures as dashed red edges, and the
 * root-level transitions drawn from a pseudo-node "any unfinished state".
 */
export function toDot(graph: MachineGraph = machineGraph()): string {
  const lines = [
    `digraph ${q(graph.id)} {`,
    "  rankdir=TB;",
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
    '  "__initial" [shape=point, width=0.15, label=""];',
    `  "__initial" -> ${q(graph.initial)};`,
  ];
  for (const s of graph.states) {
    const color = PHASE_COLORS[s.phase];
    const attrs = [`fillcolor=${q(color.fill)}`, `color=${q(color.stroke)}`];
    if (s.type === "final") attrs.push("peripheries=2");
    if (s.description) attrs.push(`tooltip=${q(s.description)}`);
    lines.push(`  ${q(s.id)} [${attrs.join(", ")}];`);
  }
  for (const t of graph.transitions) {
    const attrs = [`label=${q(t.event)}`];
    if (t.kind === "failure") attrs.push('color="#b91c1c"', 'fontcolor="#b91c1c"', "style=dashed");
    lines.push(`  ${q(t.source)} -> ${q(t.target)} [${attrs.join(", ")}];`);
  }
  if (graph.fromAnyState.length) {
    lines.push('  "__any" [shape=plaintext, style="", label="any unfinished state"];');
    for (const any of graph.fromAnyState) lines.push(`  "__any" -> ${q(any.target)} [label=${q(any.event)}, style=dotted];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
