/** A progress report from a long operation (a backup, a restore, a migration, a grace period). */
export interface Progress {
  /** What is being measured: bytes copied, migrations applied, seconds waited, rows hashed. */
  unit: "bytes" | "migrations" | "seconds" | "rows";
  done: number;
  total?: number;
  /** A short, secret-free description of the current item (a migration tag, a table name). */
  message?: string;
}

/** Receives progress reports; must not throw. */
export type OnProgress = (progress: Progress) => void;
