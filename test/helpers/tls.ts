// A throw-away certificate authority and a server certificate signed by it, made with the
// machine's openssl, for a PostgreSQL server with TLS on.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** PEM files of a CA and of a server certificate it signed. */
export interface TestCertificates {
  dir: string;
  /** The CA certificate's path (what a client's `sslrootcert` names). */
  caPath: string;
  serverCert: string;
  serverKey: string;
}

/** A CA (`cn`) and a server certificate for `names` (DNS names and IP addresses), valid one day. */
export async function makeCertificates(cn: string, names: { dns: string[]; ip: string[] }): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "um-tls-"));
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => exec("openssl", args, { cwd: dir });
  await ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await ssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${names.dns[0] ?? names.ip[0] ?? "server"}`,
    "-keyout",
    p("server.key"),
    "-out",
    p("server.csr"),
  );
  const san = [...names.dns.map((d) => `DNS:${d}`), ...names.ip.map((i) => `IP:${i}`)].join(",");
  writeFileSync(p("ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  await ssl(
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    p("ext.cnf"),
    "-out",
    p("server.crt"),
  );
  return { dir, caPath: p("ca.crt"), serverCert: readFileSync(p("server.crt"), "utf8"), serverKey: readFileSync(p("server.key"), "utf8") };
}
