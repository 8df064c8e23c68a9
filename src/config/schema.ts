import { CONFIG_KEYS, MAX_SECONDS, QUIET_KEYS, type Shape } from "./shape.js";

type JsonSchema = Record<string, unknown>;

const described = (shape: Shape, schema: JsonSchema): JsonSchema =>
  shape.description ? { description: shape.description, ...schema } : schema;

/** A shape as JSON Schema (draft 2020-12): objects closed (no unknown key), strings not blank. */
function toSchema(shape: Shape): JsonSchema {
  switch (shape.kind) {
    case "string":
      return described(shape, {
        type: "string",
        ...(shape.enum ? { enum: [...shape.enum] } : { minLength: 1, pattern: shape.pattern ?? "\\S" }),
      });
    case "seconds":
      return described(shape, { type: "number", minimum: 0, maximum: MAX_SECONDS });
    case "integer":
      return described(shape, { type: "integer", minimum: shape.min, maximum: shape.max });
    case "argv":
      return described(shape, { type: "array", minItems: 1, items: { type: "string", minLength: 1 } });
    case "strings":
      return described(shape, { type: "object", additionalProperties: { type: "string" } });
    case "json":
      return described(shape, {});
    case "false":
      return described(shape, { const: false });
    case "boolean":
      return described(shape, { type: "boolean" });
    case "array":
      return described(shape, { type: "array", items: toSchema(shape.items) });
    case "oneOf":
      return described(shape, { oneOf: shape.of.map(toSchema) });
    case "object":
      return described(shape, {
        type: "object",
        properties: Object.fromEntries(Object.entries(shape.keys).map(([k, v]) => [k, toSchema(v)])),
        ...(shape.required?.length ? { required: [...shape.required] } : {}),
        additionalProperties: false,
      });
  }
}

/**
 * The JSON Schema (draft 2020-12) of an upgrade config as written, generated from the shape the
 * validator takes its keys from (src/config/shape.ts). `name` is required, and `database` too
 * unless a preset fills it in; a preset's block needs `"preset"`.
 */
export function configSchema(): JsonSchema {
  const top = toSchema({ kind: "object", keys: { ...QUIET_KEYS, ...CONFIG_KEYS }, required: ["name"] });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "upgrade-machine config",
    description: "The config of upgrade-machine (upgrade.json): see the README's Configuration section.",
    ...top,
    anyOf: [{ required: ["database"] }, { required: ["preset"] }],
    dependentRequired: { jupyterhub: ["preset"], presetOptions: ["preset"] },
  };
}
