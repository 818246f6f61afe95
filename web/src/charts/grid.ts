// The chart grid's pure parts: sections by name prefix, the metric-name search.

/** Metrics in sections by the part of their name before the first "/", in name order. */
export function sections(metrics: string[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const m of [...metrics].sort()) {
    const cut = m.indexOf("/");
    const name = cut > 0 ? m.slice(0, cut) : "";
    by.set(name, [...(by.get(name) ?? []), m]);
  }
  return [...by.entries()].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
}

export function filterMetrics(metrics: string[], query: string): string[] {
  const q = query.trim().toLowerCase();
  return q ? metrics.filter((m) => m.toLowerCase().includes(q)) : metrics;
}
