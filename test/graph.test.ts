import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { initialTransition, transition } from "xstate";
import { STEP_NAMES, upgradeMachine, type StepName, type UpgradeEvent } from "../machines/index.js";
import { main } from "../src/cli/main.js";
import { README_MARKERS, machineGraph, toDot, toJson, toMermaid, withCurrentDiagram } from "../src/graph/index.js";

const ROOT = resolve(import.meta.dirname, "..");
const graph = machineGraph();

/** The event a transition line names, as the runner would send it from `source`. */
function eventFor(source: string, type: string): UpgradeEvent {
  if (type === "run.requested") return { type, runId: "r", target: "t", toVersion: null };
  if (type === "run.abandoned") return { type, reason: "test" };
  const step = source as StepName;
  if (type === "step.failed") return { type, step, error: { code: "E_STEP", message: "x" } };
  return { type: "step.succeeded", step, output: null };
}

describe("machineGraph() reads the machine itself", () => {
  it("has every state, and each transition really goes where it says (checked with transition())", () => {
    const ids = graph.states.map((s) => s.id);
    expect(ids).toEqual(Object.keys(upgradeMachine.config.states ?? {}));
    expect(ids).toEqual(expect.arrayContaining([...STEP_NAMES, "idle", "completed", "rolledBack", "aborted", "failed", "abandoned"]));
    const [initial] = initialTransition(upgradeMachine);
    for (const t of graph.transitions) {
      const from = upgradeMachine.resolveState({ value: t.source, context: initial.context });
      const [to] = transition(upgradeMachine, from, eventFor(t.source, t.event));
      expect(`${t.source} --${t.event}--> ${String(to.value)}`).toBe(`${t.source} --${t.event}--> ${t.target}`);
    }
    expect(graph.fromAnyState).toEqual([{ target: "abandoned", event: "run.abandoned" }]);
    expect(JSON.parse(toJson(graph))).toEqual(graph);
  });

  it("reaches restoreDatabase only through stopNewVersion, which every failure after the stop leads to", () => {
    const into = (target: string) => graph.transitions.filter((t) => t.target === target).map((t) => `${t.source}:${t.event}`);
    expect(into("restoreDatabase")).toEqual(["stopNewVersion:step.succeeded"]);
    expect(into("stopNewVersion").sort()).toEqual(
      ["health", "migrate", "start", "upgradePackage", "verify"].map((s) => `${s}:step.failed`),
    );
    expect(
      graph.transitions
        .filter((t) => t.source === "stopNewVersion")
        .map((t) => `${t.event}>${t.target}`)
        .sort(),
    ).toEqual(["step.failed>failed", "step.succeeded>restoreDatabase"]);
  });
});

describe("upgrade-machine graph --format mermaid", () => {
  const text = toMermaid(graph);
  const lines = text.trimEnd().split("\n");

  it("is a stateDiagram-v2 in which every line has a known shape", () => {
    expect(lines[0]).toBe("stateDiagram-v2");
    const shapes = [
      /^ {2}\[\*\] --> [A-Za-z]\w*$/, // initial
      /^ {2}[A-Za-z]\w* --> \[\*\]$/, // final
      /^ {2}[A-Za-z]\w* --> [A-Za-z]\w* : [a-z]+\.[A-Za-z]+$/, // A --> B : event
      /^ {2}note right of [A-Za-z]\w* : [^\n]+$/,
      /^ {2}classDef phase_[a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}$/,
      /^ {2}class [A-Za-z]\w*(, [A-Za-z]\w*)* phase_[a-z]+$/,
    ];
    for (const line of lines.slice(1))
      expect(
        shapes.some((s) => s.test(line)),
        `unexpected line: ${JSON.stringify(line)}`,
      ).toBe(true);
  });

  it("has one `A --> B : event` line per transition, every state, and [*] at both ends", () => {
    const arrows = lines.map((l) => /^ {2}(\w+) --> (\w+) : (\S+)$/.exec(l)).filter((m) => m !== null);
    expect(arrows.map(([, a, b, e]) => `${a}>${b}:${e}`).sort()).toEqual(
      graph.transitions.map((t) => `${t.source}>${t.target}:${t.event}`).sort(),
    );
    const mentioned = new Set(lines.flatMap((l) => l.match(/\b[A-Za-z]\w*\b/g) ?? []));
    for (const s of graph.states) expect(mentioned.has(s.id), s.id).toBe(true);
    expect(lines).toContain(`  [*] --> ${graph.initial}`);
    for (const s of graph.states.filter((s) => s.type === "final")) expect(lines).toContain(`  ${s.id} --> [*]`);
  });

  it("is what the CLI prints, with no config", async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: "/" };
    expect(await main(["graph"], io)).toBe(0);
    expect(out.join("")).toBe(text);
    out.length = 0;
    expect(await main(["graph", "--format", "svg"], io)).toBe(2);
    expect(out.join("")).toContain("E_USAGE");
  });
});

const dot = spawnSync("dot", ["-V"]).error ? null : "dot";
if (!dot && !process.env.CI)
  console.warn("\n*** SKIPPING the dot check: graphviz is missing (apt-get install graphviz). CI runs it. ***\n");

describe.skipIf(!dot && !process.env.CI)("upgrade-machine graph --format dot", () => {
  it("renders with graphviz's dot -Tsvg, one node per state", () => {
    const svg = execFileSync("dot", ["-Tsvg"], { input: toDot(graph), encoding: "utf8" });
    expect(svg).toContain("<svg");
    for (const s of graph.states) expect(svg, s.id).toContain(`<title>${s.id}</title>`);
    const edges = svg.match(/<g id="edge\d+" class="edge">/g) ?? [];
    expect(edges.length).toBe(graph.transitions.length + graph.fromAnyState.length + 1); // + the initial arrow
  });
});

describe("the README's diagram", () => {
  const readme = resolve(ROOT, "README.md");
  const present = existsSync(readme);
  if (!present) console.warn("\n*** README.md is missing: the diagram-is-current check has nothing to check. ***\n");

  it.skipIf(!present)("is the current mermaid diagram of the machine (npm run diagram rewrites it)", () => {
    const text = readFileSync(readme, "utf8");
    expect(text, `README.md needs ${README_MARKERS.start} ... ${README_MARKERS.end}`).toContain(README_MARKERS.start);
    expect(withCurrentDiagram(text), "the README's diagram is stale: run `npm run diagram`").toBe(text);
  });

  it("is replaced between the markers only, and a stale one is detected", () => {
    const stale = `# x\n\nbefore\n${README_MARKERS.start}\nold diagram\n${README_MARKERS.end}\nafter\n`;
    const fresh = withCurrentDiagram(stale);
    expect(fresh).not.toBe(stale);
    expect(fresh.startsWith("# x\n\nbefore\n")).toBe(true);
    expect(fresh.endsWith(`${README_MARKERS.end}\nafter\n`)).toBe(true);
    expect(fresh).toContain("```mermaid\nstateDiagram-v2\n");
    expect(withCurrentDiagram(fresh)).toBe(fresh);
    expect(() => withCurrentDiagram("# no markers\n")).toThrow(/machine:start/);
  });
});
