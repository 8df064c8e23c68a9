import type { AnyStateMachine } from "xstate";
import { toDirectedGraph, type DirectedGraphEdge, type DirectedGraphNode } from "xstate/graph";
import { upgradeMachine } from "../../machines/index.js";

/** Where a state sits in the flow: before the run, a forward/abort/rollback step, or an end. */
export type GraphPhase = "idle" | "forward" | "abort" | "rollback" | "terminal";

/** One state of the machine, as the diagrams and the live view draw it. */
export interface GraphState {
  /** The state's key in the machine (`preflight`, `restoreDatabase`, ...). */
  id: string;
  phase: GraphPhase;
  /** `final` for the end states (`completed`, `rolledBack`, ...). */
  type: "atomic" | "final";
  description: string | null;
}

/** A transition that leaves its state: `success` (run.requested, step.succeeded) or `failure` (step.failed). */
export interface GraphTransition {
  source: string;
  target: string;
  event: string;
  /** The guard, printed (`stepIs(preflight)`), or null. */
  guard: string | null;
  kind: "success" | "failure";
}

/** The upgrade machine as data: built from the machine itself, never written by hand. */
export interface MachineGraph {
  id: string;
  initial: string;
  states: GraphState[];
  transitions: GraphTransition[];
  /** Transitions defined on the machine's root: taken from every state that is not final. */
  fromAnyState: { target: string; event: string }[];
  /** Events a state takes without leaving it (`step.started` counts an attempt). */
  internal: { state: string; event: string }[];
}

function keyOf(node: { id: string }, rootId: string): string {
  return node.id.startsWith(`${rootId}.`) ? node.id.slice(rootId.length + 1) : node.id;
}

function guardText(edge: DirectedGraphEdge): string | null {
  const guard = edge.transition.guard as unknown;
  if (!guard) return null;
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") return guard.name || "guard";
  const g = guard as { type?: string; params?: Record<string, unknown> };
  const params = g.params ? Object.values(g.params).map(String).join(", ") : "";
  return `${g.type ?? "guard"}${params ? `(${params})` : ""}`;
}

function phaseOf(node: DirectedGraphNode, initial: string, key: string): GraphPhase {
  if (node.stateNode.type === "final") return "terminal";
  if (key === initial) return "idle";
  const phase = (node.stateNode.meta as { phase?: unknown } | undefined)?.phase;
  return phase === "abort" || phase === "rollback" ? phase : "forward";
}

/**
 * The states and transitions of the upgrade machine (or any flat machine), read with xstate's
 * `toDirectedGraph`, in the order the machine declares them.
 */
export function machineGraph(machine: AnyStateMachine = upgradeMachine): MachineGraph {
  const root = toDirectedGraph(machine);
  const rootId = root.id;
  const initial = String(machine.root.initial?.target[0]?.key ?? root.children[0]?.stateNode.key ?? "");
  const graph: MachineGraph = { id: rootId, initial, states: [], transitions: [], fromAnyState: [], internal: [] };
  for (const edge of root.edges) {
    graph.fromAnyState.push({ target: keyOf(edge.target, rootId), event: edge.label.text });
  }
  for (const node of root.children) {
    const id = keyOf(node, rootId);
    graph.states.push({
      id,
      phase: phaseOf(node, initial, id),
      type: node.stateNode.type === "final" ? "final" : "atomic",
      description: node.stateNode.description ?? null,
    });
    for (const edge of node.edges) {
      const event = edge.label.text;
      // Targetless transitions (actions only) show up as self-loops; they never change state.
      if (!edge.transition.target?.length) {
        graph.internal.push({ state: id, event });
        continue;
      }
      graph.transitions.push({
        source: id,
        target: keyOf(edge.target, rootId),
        event,
        guard: guardText(edge),
        kind: event === "step.failed" ? "failure" : "success",
      });
    }
  }
  return graph;
}

/** The graph as pretty JSON (what `upgrade-machine graph --format json` prints). */
export function toJson(graph: MachineGraph = machineGraph()): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}
