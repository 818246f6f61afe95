// Several runs' system samples on one chart: their runtimes joined into one x axis (uPlot wants
// aligned data), each run's values at its own sample times and gaps (null) elsewhere.

import type { SystemSamples } from "./api";
import { groupKeys, type ChartGroup } from "./groups";

export interface SampledRun {
  id: string;
  name: string;
  color: string;
  data: SystemSamples | undefined;
}

export interface JoinedChart {
  id: string;
  title: string;
  x: number[];
  lines: { label: string; color: string; values: (number | null)[] }[];
}

export function joinRuns(runs: SampledRun[]): JoinedChart[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of r.data?.keys ?? []) keys.add(k);
  return groupKeys([...keys]).map((group) => joinGroup(group, runs));
}

function joinGroup(group: ChartGroup, runs: SampledRun[]): JoinedChart {
  const x = [...new Set(runs.flatMap((r) => r.data?.runtime ?? []))].sort((a, b) => a - b);
  const at = new Map(x.map((t, i) => [t, i]));
  const perDevice = group.lines.length > 1 || group.lines[0]?.label !== "this run";
  const lines: JoinedChart["lines"] = [];
  for (const run of runs) {
    const data = run.data;
    if (!data) continue;
    for (const line of group.lines) {
      const series = data.series[line.key];
      if (!series) continue;
      const values: (number | null)[] = new Array(x.length).fill(null);
      data.runtime.forEach((t, i) => {
        values[at.get(t)!] = series[i];
      });
      lines.push({ label: perDevice ? `${run.name} ${line.label}` : run.name, color: run.color, values });
    }
  }
  return { id: group.id, title: group.title, x, lines };
}
