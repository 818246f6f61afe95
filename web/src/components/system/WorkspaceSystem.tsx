// The workspace's System section: each selected run's machine (CPU, memory, GPUs, disk,
// network) against time since the run started, a line per run (per run and device for GPUs and
// cores). Closed until opened: nothing is fetched for a workspace that does not look at it.

import { useQueries } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { ChartRun } from "../../charts/types";
import { systemQuery } from "./api";
import { joinRuns } from "./join";
import { TimeChart } from "./TimeChart";

export function WorkspaceSystem({ entity, project, runs, live }: {
  entity: string; project: string; runs: ChartRun[]; live: boolean;
}) {
  const [open, setOpen] = useState(false);
  const queries = useQueries({
    queries: runs.map((r) => ({ ...systemQuery(entity, project, r.id, live), enabled: open })),
  });
  const stamp = queries.map((q) => q.dataUpdatedAt).join(",");
  const charts = useMemo(
    () => joinRuns(runs.map((r, i) => ({ ...r, data: queries[i]?.data }))),
    [runs, stamp], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const loading = open && queries.some((q) => q.isPending);
  return (
    <details className="chart-section system-section" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>System</summary>
      {loading && <p className="loading">Loading system metrics…</p>}
      {open && !loading && !charts.length && (
        <p className="muted">No system metrics in these runs (the SDK samples them unless <code>x_disable_stats</code> is set).</p>
      )}
      {open && charts.length > 0 && (
        <div className="chart-grid">
          {charts.map((c) => (
            <div key={c.id} className="chart-cell">
              <TimeChart id={c.id} title={c.title} x={c.x} lines={c.lines} axis="runtime" />
            </div>
          ))}
        </div>
      )}
    </details>
  );
}
