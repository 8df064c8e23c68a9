/**
 * Small type guards for JSON read back from the journal. Each checks a value and narrows it to
 * its type, so a step output is typed by a check, not by a cast. On a mismatch a guard pushes
 * where it failed into `where` (innermost first), which `describeMismatch` turns into a path.
 */
export type Guard<T> = (value: unknown, where?: string[]) => value is T;

function fail(where: string[] | undefined, what: string): false {
  where?.push(what);
  return false;
}

/** A JSON object (not null, not an array). */
function isJsonObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string, a number, a boolean. */
export const str: Guard<string> = (v, where): v is string => typeof v === "string" || fail(where, "a string");
export const num: Guard<number> = (v, where): v is number => typeof v === "number" || fail(where, "a number");
export const bool: Guard<boolean> = (v, where): v is boolean => typeof v === "boolean" || fail(where, "a boolean");
/** Any value at all: for what no reader looks into. */
export const anyValue: Guard<unknown> = (_v): _v is unknown => true;

type Guarded<G> = G extends Guard<infer T> ? T : never;

/** `value` or null; marked so `object` can require one for every field that may be null. */
export function nullable<G extends Guard<unknown>>(guard: G): G & Guard<Guarded<G> | null> & { readonly nullable: true } {
  const check: Guard<Guarded<G> | null> = (v, where): v is Guarded<G> | null => v === null || guard(v, where);
  return Object.assign(check, guard, { nullable: true as const });
}

/** `value` or absent (a field added since older versions wrote the journal); marked like `nullable`. */
export function optional<G extends Guard<unknown>>(guard: G): G & Guard<Guarded<G> | undefined> & { readonly optional: true } {
  const check: Guard<Guarded<G> | undefined> = (v, where): v is Guarded<G> | undefined => v === undefined || guard(v, where);
  return Object.assign(check, guard, { optional: true as const });
}

/**
 * The guard a field of type `V` needs: one that accepts absence when the field is optional and
 * null when it may be null, so a check stricter than the type (which would refuse a journal
 * written by an older version) does not compile.
 */
export type FieldGuard<V> = Guard<V> &
  (undefined extends V ? { readonly optional: true } : unknown) &
  (null extends V ? { readonly nullable: true } : unknown);

/** One of two shapes. */
export function either<A, B>(a: Guard<A>, b: Guard<B>): Guard<A | B> {
  return (v, where): v is A | B => a(v) || b(v) || fail(where, "none of the shapes it may have");
}

/** Exactly `literal`. */
export function literal<L extends string>(literal: L): Guard<L> {
  return (v, where): v is L => v === literal || fail(where, JSON.stringify(literal));
}

/** An array whose every item passes `guard`. */
export function arrayOf<T>(guard: Guard<T>): Guard<T[]> {
  return (v, where): v is T[] => {
    if (!Array.isArray(v)) return fail(where, "an array");
    const bad = v.findIndex((item) => !guard(item, where));
    return bad < 0 || fail(where, `[${bad}]`);
  };
}

/** An object whose every value passes `guard` (e.g. a fingerprint's tables). */
export function recordOf<T>(guard: Guard<T>): Guard<Record<string, T>> {
  return (v, where): v is Record<string, T> => {
    if (!isJsonObject(v)) return fail(where, "an object");
    const bad = Object.keys(v).find((key) => !guard(v[key], where));
    return bad === undefined || fail(where, `.${bad}`);
  };
}

/**
 * An object with every field of `T` checked: the compiler requires a guard for each field, of
 * that field's type, `optional(...)` for every optional one (a field older journals may lack)
 * and `nullable(...)` for every one that may be null. Fields beyond `T` are allowed (a preset's output extends the general one).
 */
export function object<T>(fields: { [K in keyof T]-?: FieldGuard<T[K]> }): Guard<T> {
  const checks: [string, Guard<unknown>][] = Object.entries(fields);
  return (v, where): v is T => {
    if (!isJsonObject(v)) return fail(where, "an object");
    const bad = checks.find(([key, guard]) => !guard(v[key], where));
    return bad === undefined || fail(where, `.${bad[0]}`);
  };
}

/** Where a guard failed, outermost first: `.restorePoint.sha256: a string`. */
export function describeMismatch(where: readonly string[]): string {
  const [expected, ...path] = where;
  return `${[...path].reverse().join("") || "the value"} is not ${expected ?? "of the expected shape"}`;
}
