import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UpgradeError } from "../errors.js";

/** A file the live view serves. */
export interface ViewAsset {
  type: string;
  body: string;
}

/** The files of the page, shipped in the package: src/view/assets, copied by tsup to dist/view-assets. */
export const ASSET_FILES = {
  "index.html": "text/html; charset=utf-8",
  "view.js": "text/javascript; charset=utf-8",
  "view.css": "text/css; charset=utf-8",
  "fleet.html": "text/html; charset=utf-8",
  "fleet.js": "text/javascript; charset=utf-8",
  "fleet.css": "text/css; charset=utf-8",
} as const;

/** The folder holding the page's files, from src/ (tests) or from dist/ (the built package). */
export function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "assets"), join(here, "view-assets"), join(here, "..", "view-assets")];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) {
    throw new UpgradeError("E_INTERNAL", `the live view's files are missing (looked in ${candidates.join(", ")})`, {
      hint: "the installation is broken: reinstall upgrade-machine",
    });
  }
  return found;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readAsset(file: keyof typeof ASSET_FILES): string {
  return readFileSync(join(assetsDir(), file), "utf8");
}

/**
 * The fleet page's files: its two assets by URL path, and the page with the fleet's name and the
 * token written in and `__BODY__` left for the rollout's grid, rendered on each request.
 */
export function fleetAssets(name: string, token: string): { page: string; files: Map<string, ViewAsset> } {
  const page = readAsset("fleet.html").replaceAll("__NAME__", escapeHtml(name)).replaceAll("__TOKEN__", encodeURIComponent(token));
  return {
    page,
    files: new Map<string, ViewAsset>([
      ["/assets/fleet.js", { type: ASSET_FILES["fleet.js"], body: readAsset("fleet.js") }],
      ["/assets/fleet.css", { type: ASSET_FILES["fleet.css"], body: readAsset("fleet.css") }],
    ]),
  };
}

/**
 * The page's files by URL path, read once. The page gets the service's name and the token
 * (for its asset and API URLs) written in; nothing else is templated.
 */
export function viewAssets(name: string, token: string): Map<string, ViewAsset> {
  const html = readAsset("index.html").replaceAll("__NAME__", escapeHtml(name)).replaceAll("__TOKEN__", encodeURIComponent(token));
  return new Map<string, ViewAsset>([
    ["/", { type: ASSET_FILES["index.html"], body: html }],
    ["/assets/view.js", { type: ASSET_FILES["view.js"], body: readAsset("view.js") }],
    ["/assets/view.css", { type: ASSET_FILES["view.css"], body: readAsset("view.css") }],
  ]);
}
