// Grouping of the loaded rows by a field (group, job_type, config.<key>): done in the browser over
// the rows loaded so far, in the server's order (groups appear where their first row does).

export type Item<T> =
  | { kind: "group"; key: string; label: string; count: number }
  | { kind: "row"; row: T };

const NONE = "(none)";

export function groupKey(value: unknown): string {
  if (value === null || value === undefined || value === "") return NONE;
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function groupItems<T>(rows: T[], groupBy: string, value: (row: T) => unknown, collapsed: Set<string>): Item<T>[] {
  if (!groupBy) return rows.map((row) => ({ kind: "row", row }));
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = groupKey(value(row));
    const members = groups.get(key);
    if (members) members.push(row);
    else groups.set(key, [row]);
  }
  const items: Item<T>[] = [];
  for (const [key, members] of groups) {
    items.push({ kind: "group", key, label: key, count: members.length });
    if (!collapsed.has(key)) for (const row of members) items.push({ kind: "row", row });
  }
  return items;
}
