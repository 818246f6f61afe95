// The runs table's columns: fixed run fields, and config.<path> / summary.<key> columns picked by
// the user. A column's id is the REST field name, so sorting by it is `order=<id>`.

import type { Run } from "../../api/types";

export interface ColumnSpec {
  id: string;
  label: string;
  width: number;
  /** Sent as `order` (tags cannot be ordered by). */
  sortable: boolean;
}

export const FIXED_COLUMNS: ColumnSpec[] = [
  { id: "name", label: "Name", width: 200, sortable: true },
  { id: "state", label: "State", width: 96, sortable: true },
  { id: "created_at", label: "Created", width: 170, sortable: true },
  { id: "runtime", label: "Runtime", width: 86, sortable: true },
  { id: "group", label: "Group", width: 110, sortable: true },
  { id: "job_type", label: "Job type", width: 100, sortable: true },
  { id: "tags", label: "Tags", width: 130, sortable: false },
];

export const OPTIONAL_RUN_COLUMNS: ColumnSpec[] = [
  { id: "id", label: "ID", width: 100, sortable: true },
  { id: "host", label: "Host", width: 110, sortable: true },
  { id: "exit_code", label: "Exit code", width: 80, sortable: true },
  { id: "updated_at", label: "Updated", width: 170, sortable: true },
];

/** A config.<path> or summary.<key> column: labelled by its key (the header's title has the whole id). */
export function keyColumn(id: string): ColumnSpec {
  const label = id.replace(/^(config|summary)\./, "");
  const source = id.length - label.length; // the small "config"/"summary" prefix in the header
  return { id, label, width: Math.min(260, Math.max(110, (label.length + source * 0.7) * 7.5 + 24)), sortable: true };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Leaf paths of a nested config: {opt: {lr: 1}} -> ["opt.lr"]. */
export function configPaths(config: Record<string, unknown>, prefix = "", out: Set<string> = new Set()): Set<string> {
  for (const [key, value] of Object.entries(config)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && Object.keys(value).length > 0 && !("_type" in value)) configPaths(value, path, out);
    else out.add(path);
  }
  return out;
}

/** The config.* and summary.* fields seen in loaded runs (summary keys starting with _ last). */
export function discoverKeys(runs: Run[], limit = 2000): { config: string[]; summary: string[] } {
  const config = new Set<string>();
  const summary = new Set<string>();
  for (const run of runs.slice(0, limit)) {
    configPaths(run.config ?? {}, "", config);
    for (const key of Object.keys(run.summary ?? {})) summary.add(key);
  }
  const underscoreLast = (a: string, b: string) =>
    Number(a.startsWith("_")) - Number(b.startsWith("_")) || a.localeCompare(b);
  return {
    config: [...config].sort().map((k) => `config.${k}`),
    summary: [...summary].sort(underscoreLast).map((k) => `summary.${k}`),
  };
}

/** A run's value for a column id (the REST field naming). */
export function valueAt(run: Run, id: string): unknown {
  if (id.startsWith("config.")) {
    let value: unknown = run.config;
    for (const part of id.slice("config.".length).split(".")) {
      if (!isPlainObject(value)) return undefined;
      value = value[part];
    }
    return value;
  }
  if (id.startsWith("summary.")) return run.summary?.[id.slice("summary.".length)];
  return (run as unknown as Record<string, unknown>)[id];
}

/** `-summary.loss` -> {id: "summary.loss", desc: true}. */
export function parseOrder(order: string): { id: string; desc: boolean } {
  return { id: order.replace(/^[+-]/, ""), desc: order.startsWith("-") };
}

/** The next order when a header is clicked: a new column sorts descending first for numbers and
 * times (best/newest on top), ascending for text; the same column flips. */
export function nextOrder(current: string, id: string): string {
  const now = parseOrder(current);
  if (now.id === id) return now.desc ? id : `-${id}`;
  const textual = ["name", "state", "group", "job_type", "id", "host"].includes(id);
  return textual ? id : `-${id}`;
}
