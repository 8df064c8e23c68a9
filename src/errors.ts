import type { ErrorCode } from "./error-codes.js";

/** Every error code, with its exit code and meaning, lives in one table: `./error-codes.ts`. */
export type { ErrorCode };

/** The optional parts of an UpgradeError. */
export interface UpgradeErrorOptions {
  /** What the operator should do next. */
  hint?: string;
  cause?: unknown;
  /** Structured, secret-free details kept in the journal. */
  details?: Record<string, unknown>;
}

/**
 * Every error upgrade-machine throws on purpose: a stable string `code`, a message that says
 * what failed, and `hint`, the next thing the operator should do.
 */
export class UpgradeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: UpgradeErrorOptions = {}) {
    super(options.hint ? `${message}\n  next: ${options.hint}` : message, { cause: options.cause });
    this.name = "UpgradeError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** The message without the hint line. */
  get summary(): string {
    return this.hint ? this.message.slice(0, this.message.lastIndexOf("\n  next: ")) : this.message;
  }
}

/** True when `err` is an UpgradeError, optionally with the given code. */
export function isUpgradeError(err: unknown, code?: ErrorCode): err is UpgradeError {
  return err instanceof UpgradeError && (code === undefined || err.code === code);
}

/** A JSON-safe view of any error, for the journal (no stack, no cause chain). */
export function errorRecord(err: unknown): { code: string; message: string; hint?: string; details?: Record<string, unknown> } {
  if (err instanceof UpgradeError) {
    return {
      code: err.code,
      message: err.summary,
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.details ? { details: err.details } : {}),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: "E_STEP", message };
}
