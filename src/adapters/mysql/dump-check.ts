import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

const TRIGGER_START = "/*!50003 TRIGGER ";
const HEADER_END = /\bFOR\s+EACH\s+ROW\b/i;
/** A trigger's header never runs this long; past it, stop collecting. */
const MAX_HEADER_LINES = 50;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The headers of the triggers in a dump that name `database` explicitly (`CREATE TRIGGER
 * shop.t_ins BEFORE INSERT ON shop.orders`). mysqldump writes a trigger's statement as it was
 * first typed, so loading such a dump into any other database would create the trigger in
 * `database` itself, or fail. Only the header (up to FOR EACH ROW) is read: a body may name
 * any database it likes. Streams the file line by line.
 */
export async function triggersNamingDatabase(path: string, database: string): Promise<string[]> {
  const quoted = `\`${escapeRegExp(database.replace(/`/g, "``"))}\``;
  const ansi = `"${escapeRegExp(database)}"`;
  const bare = `(?<![\\w$])${escapeRegExp(database)}`;
  const naming = new RegExp(`(?:${quoted}|${ansi}|${bare})\\s*\\.`);
  const found: string[] = [];
  let header: string[] | undefined;
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (header === undefined) {
      const at = line.indexOf(TRIGGER_START);
      if (at < 0) continue;
      header = [line.slice(at + TRIGGER_START.length)];
    } else header.push(line);
    const text = header.join("\n");
    const end = HEADER_END.exec(text);
    if (end || header.length >= MAX_HEADER_LINES) {
      const head = end ? text.slice(0, end.index) : text;
      if (naming.test(head)) found.push(head.replace(/\s+/g, " ").trim().slice(0, 200));
      header = undefined;
    }
  }
  return found;
}
