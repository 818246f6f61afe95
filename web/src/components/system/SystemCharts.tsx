// The run page's System tab: what the machine was doing while the run trained (CPU, memory,
// GPUs, disk, network), sampled by the SDK on its own clock, charted against time; never a step.

import { useMemo, useState } from "react";
import { errorText } from "../ErrorMessage";
import { useSystemSamples } from "./api";
import { groupKeys } from "./groups";
import { TimeChart, type TimeAxis } from "./TimeChart";

export function SystemCharts({ entity, project, runId, live }: {
  entity: string; project: string; runId: string; live: boolean;
}) {
  const query = useSystemSamples(entity, project, runId, live);
  const [axis, setAxis] = useState<TimeAxis>("runtime");
  const data = query.data;
  const groups = useMemo(() => groupKeys(data?.keys ?? []), [data]);
  const charts = useMemo(() => groups.map((g) => ({
    ...g, lines: g.lines.map((l) => ({ label: l.label, values: data?.series[l.key] ?? [] })),
  })), [groups, data]);

  if (query.isPending) return <p className="loading">Loading system metrics…</p>;
  if (query.isError) return <p className="error" role="alert">{errorText(query.error)}</p>;
  if (!data || data.count === 0) {
    return (
      <p className="muted system-empty">
        No system metrics for this run: the SDK samples them unless <code>x_disable_stats</code> is set.
      </p>
    );
  }
  const x = axis === "wall" ? data.ts : data.runtime;
  return (
    <div className="run-charts system-charts" aria-label="System metrics">
      <div className="chart-controls">
        <label>
          X-axis
          <select value={axis} onChange={(e) => setAxis(e.target.value as TimeAxis)}>
            <option value="runtime">Relative time</option>
            <option value="wall">Wall time</option>
          </select>
        </label>
        <span className="muted">
          {data.count.toLocaleString()} samples{data.count > data.runtime.length ? `, ${data.runtime.length} shown` : ""}
        </span>
      </div>
      <div className="chart-grid">
        {charts.map((c) => (
          <div key={c.id} className="chart-cell">
            <TimeChart id={c.id} title={c.title} x={x} lines={c.lines} axis={axis} />
          </div>
        ))}
      </div>
    </div>
  );
}
