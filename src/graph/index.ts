export { machineGraph, toJson, type MachineGraph, type GraphState, type GraphTransition, type GraphPhase } from "./machine-graph.js";
export { toMermaid, PHASE_COLORS, README_MARKERS, diagramBlock, withCurrentDiagram } from "./mermaid.js";
export { toDot } from "./dot.js";
