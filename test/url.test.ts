import { describe, expect, it } from "vitest";
import { UpgradeError } from "../src/errors.js";
import { describeTarget, parseDatabaseUrl, redactSecrets, redactUrl, targetId } from "../src/url.js";

const BASE = "/srv/app";

function urlError(url: string): UpgradeError {
  try {
    parseDatabaseUrl(url, BASE);
  } catch (err) {
    expect(err).toBeInstanceOf(UpgradeError);
    return err as UpgradeError;
  }
  throw new Error(`expected ${url} to be rejected`);
}

describe("parseDatabaseUrl: sqlite", () => {
  it.each([
    ["sqlite:./data/blog.sqlite", "/srv/app/data/blog.sqlite"],
    ["sqlite:rel.db", "/srv/app/rel.db"],
    ["sqlite:../up/x.db", "/srv/up/x.db"],
    ["sqlite:/abs/path.db", "/abs/path.db"],
    ["sqlite:///abs/path.db", "/abs/path.db"],
    ["file:./data/blog.sqlite", "/srv/app/data/blog.sqlite"],
    ["file:rel.db", "/srv/app/rel.db"],
    ["file:/abs/path.db", "/abs/path.db"],
    ["file:///abs/path.db", "/abs/path.db"],
    ["SQLite:rel.db", "/srv/app/rel.db"],
  ])("%s", (url, path) => {
    expect(parseDatabaseUrl(url, BASE)).toEqual({ dialect: "sqlite", path });
  });
});

describe("parseDatabaseUrl: postgres", () => {
  it("parses user, password, host, port, database and params", () => {
    expect(parseDatabaseUrl("postgres://app:s3cret@db.example.com:6543/blog?sslmode=require&application_name=up", BASE)).toEqual({
      dialect: "postgres",
      host: "db.example.com",
      port: 6543,
      user: "app",
      password: "s3cret",
      database: "blog",
      params: { sslmode: "require", application_name: "up" },
    });
  });

  it("defaults the port to 5432 and accepts postgresql://", () => {
    const t = parseDatabaseUrl("postgresql://db/blog", BASE);
    expect(t).toEqual({ dialect: "postgres", host: "db", port: 5432, database: "blog", params: {} });
  });

  it("percent-decodes user and password; a raw @ in the password ends at the last @", () => {
    const t = parseDatabaseUrl("postgres://us%40er:p%40ss%3Aw%2Frd@db/blog", BASE);
    expect(t).toMatchObject({ user: "us@er", password: "p@ss:w/rd", host: "db" });
    expect(parseDatabaseUrl("postgres://u:p@ss@db/blog", BASE)).toMatchObject({ user: "u", password: "p@ss", host: "db" });
  });

  it("reads a unix socket from ?host= or a percent-encoded host", () => {
    const a = parseDatabaseUrl("postgres://app@/blog?host=/var/run/postgresql&sslmode=disable", BASE);
    expect(a).toEqual({
      dialect: "postgres",
      host: "localhost",
      port: 5432,
      user: "app",
      database: "blog",
      params: { sslmode: "disable" },
      socket: "/var/run/postgresql",
    });
    const b = parseDatabaseUrl("postgres://%2Fvar%2Frun%2Fpostgresql:5433/blog", BASE);
    expect(b).toMatchObject({ socket: "/var/run/postgresql", port: 5433, host: "localhost", database: "blog" });
  });

  it("accepts IPv6 hosts and ?password=", () => {
    expect(parseDatabaseUrl("postgres://[::1]:5433/blog", BASE)).toMatchObject({ host: "[::1]", port: 5433 });
    expect(parseDatabaseUrl("postgres://u@db/blog?password=pw", BASE)).toMatchObject({ user: "u", password: "pw", params: {} });
  });
});

describe("parseDatabaseUrl: mysql", () => {
  it.each(["mysql", "mariadb"])("%s:// defaults the port to 3306", (scheme) => {
    expect(parseDatabaseUrl(`${scheme}://root:pw@127.0.0.1/shop?charset=utf8mb4`, BASE)).toEqual({
      dialect: "mysql",
      host: "127.0.0.1",
      port: 3306,
      user: "root",
      password: "pw",
      database: "shop",
      params: { charset: "utf8mb4" },
    });
  });

  it("reads ?socket= as a unix socket", () => {
    expect(parseDatabaseUrl("mysql://root@localhost/shop?socket=/run/mysqld/mysqld.sock", BASE)).toMatchObject({
      socket: "/run/mysqld/mysqld.sock",
      params: {},
    });
  });
});

describe("parseDatabaseUrl: malformed URLs", () => {
  it.each([
    ["no scheme", "./data/blog.sqlite"],
    ["no scheme with password", "app:hunter2@db/blog"],
    ["unknown scheme", "redis://app:hunter2@db/0"],
    ["empty database name", "postgres://app:hunter2@db/"],
    ["no database", "postgres://app:hunter2@db:5432"],
    ["bad port", "postgres://app:hunter2@db:54x2/blog"],
    ["port out of range", "mysql://app:hunter2@db:70000/shop"],
    ["port zero", "mysql://app:hunter2@db:0/shop"],
    ["raw / in the password", "postgres://app:hun/ter2@db/blog"],
    ["raw ? in the password", "postgres://app:hunter2?x@db/blog"],
    ["bad percent-encoding", "postgres://app:hunter2%zz@db/blog"],
    ["missing //", "postgres:app:hunter2@db/blog"],
    ["several hosts", "postgres://app:hunter2@db1,db2/blog"],
    ["empty sqlite path", "sqlite:"],
    ["empty sqlite path (///)", "sqlite:///"],
    ["empty file path", "file:"],
    ["sqlite with a host", "sqlite://host/x.db"],
    ["in-memory sqlite", "sqlite::memory:"],
  ])("%s: %s", (_label, url) => {
    const err = urlError(url);
    expect(err.code).toBe("E_URL");
    expect(err.message).not.toContain("hunter2");
    expect(err.message).not.toContain("hun/ter2");
    expect(err.hint).toContain("sqlite:./");
    expect(err.hint).toContain("postgres://");
    expect(err.hint).toContain("mysql://");
  });
});

describe("redaction", () => {
  it("redactUrl hides the password of any URL", () => {
    expect(redactUrl("postgres://app:s3cret@db:5432/blog?sslmode=require")).toBe("postgres://app:***@db:5432/blog?sslmode=require");
    expect(redactUrl("mysql://root:p@ss@db/shop")).toBe("mysql://root:***@db/shop");
    expect(redactUrl("https://bot:tok/en@hooks.example.com/x")).toBe("https://bot:***@hooks.example.com/x");
    expect(redactUrl("postgres://u@db/blog?password=s3cret&sslmode=require")).toBe("postgres://u@db/blog?password=***&sslmode=require");
    expect(redactUrl("postgres://db:5432/blog")).toBe("postgres://db:5432/blog");
    expect(redactUrl("sqlite:./x.db")).toBe("sqlite:./x.db");
  });

  it("redactSecrets hides URL passwords and listed secrets in free text", () => {
    const text =
      'pg_dump: error: connection to "postgres://app:s3cret@db:5432/blog" failed\nretry with mysql://root:pw2@h/x or token abc123';
    const out = redactSecrets(text, ["abc123", ""]);
    expect(out).not.toContain("s3cret");
    expect(out).not.toContain("pw2");
    expect(out).not.toContain("abc123");
    expect(out).toContain("postgres://app:***@db:5432/blog");
    expect(out).toContain("mysql://root:***@h/x");
    expect(out).toContain("token ***");
  });

  it("redactSecrets also hides the percent-encoded form of a secret", () => {
    expect(redactSecrets("failed: p%40ss and p@ss", ["p@ss"])).toBe("failed: *** and ***");
  });
});

describe("targetId and describeTarget", () => {
  it("are stable and secret-free", () => {
    const pg = parseDatabaseUrl("postgresql://app:s3cret@DB.example.com/blog?sslmode=require", BASE);
    expect(targetId(pg)).toBe("postgres://db.example.com:5432/blog");
    expect(targetId(parseDatabaseUrl("postgres://other:x@db.example.com:5432/blog", BASE))).toBe(targetId(pg));
    expect(describeTarget(pg)).toBe("postgres://app:***@db.example.com:5432/blog?sslmode=require");
    const my = parseDatabaseUrl("mariadb://root:pw@db/shop", BASE);
    expect(targetId(my)).toBe("mysql://db:3306/shop");
    expect(describeTarget(my)).not.toContain("pw@");
    const lite = parseDatabaseUrl("sqlite:./data/blog.sqlite", BASE);
    expect(targetId(lite)).toBe("sqlite:/srv/app/data/blog.sqlite");
    expect(describeTarget(lite)).toBe("sqlite:/srv/app/data/blog.sqlite");
    const sock = parseDatabaseUrl("postgres://app:s3cret@/blog?host=/var/run/postgresql", BASE);
    expect(targetId(sock)).toBe("postgres://%2Fvar%2Frun%2Fpostgresql:5432/blog");
    expect(describeTarget(sock)).not.toContain("s3cret");
  });
});

describe("redactUrl on malformed input", () => {
  it.each([
    ["app:hunter2@db/blog", "***@db/blog"],
    ["postgres:app:hunter2@db/blog", "***@db/blog"],
    ["postgres://us/er:hunter2@db/blog", "postgres://***@db/blog"],
    ["postgres://app@db/blog", "postgres://app@db/blog"],
  ])("%s", (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
