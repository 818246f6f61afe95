// A project's workspace: one chart per metric (the union over the selected runs), a line per
// run. Runs come from `?runs=id1,id2` (the runs table's selection), else the project's latest 10.
// Chart settings live in the URL too, so a link shows the same charts; running runs refresh.

import { useQueries, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { listRuns } from "../api/runs";
import type { MetricDefinitions, Run } from "../api/types";
import { ChartControls, settingsFromParams, settingsToParams } from "../charts/ChartControls";
import { ChartGrid } from "../charts/ChartGrid";
import { runColor } from "../charts/colors";
import type { ChartRun } from "../charts/types";
import { errorText } from "../components/ErrorMessage";
import { StateBadge } from "../components/StateBadge";
import { WorkspaceSystem } from "../components/system/WorkspaceSystem";
import { measureFromNavigation } from "../perf";
import { fetchMetrics, SYSTEM_KEYS } from "./run/api";
import "./run/run.css";

export const DEFAULT_RUNS = 10;
export const MAX_RUNS = 100; // the batch endpoint's limit per request
const LIVE_MS = 5000;

const isLive = (run: Run) => run.state === "running" || run.state === "preempting";

/** The run ids of `?runs=` in their order, without repeats. */
export function selectedIds(params: URLSearchParams): string[] {
  return [...new Set((params.get("runs") ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
}

export default function Workspace() {
  const { entity = "", project = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const ids = useMemo(() => selectedIds(params), [params]);
  const asked = ids.slice(0, MAX_RUNS);

  const runsQuery = useQuery({
    queryKey: ["workspace-runs", entity, project, asked],
    queryFn: ({ signal }) => asked.length
      ? listRuns(entity, project, { filters: { id: { $in: asked } }, limit: asked.length }, signal)
      : listRuns(entity, project, { order: "-created_at", limit: DEFAULT_RUNS }, signal),
    refetchInterval: (q) => (q.state.data?.runs.some(isLive) ? LIVE_MS : false),
  });
  const runs = useMemo(() => {
    const found = runsQuery.data?.runs ?? [];
    if (!asked.length) return found;
    const byId = new Map(found.map((r) => [r.id, r]));
    return asked.flatMap((id) => byId.get(id) ?? []);
  }, [runsQuery.data, asked]);
  const live = runs.some(isLive);
  // one identity while the runs' ids and names stay (a live refetch changes their other fields)
  const chartKey = JSON.stringify(runs.map((r) => [r.id, r.name ?? r.id]));
  const chartRuns: ChartRun[] = useMemo(
    () => (JSON.parse(chartKey) as [string, string][]).map(([id, name], i) => ({ id, name, color: runColor(i) })),
    [chartKey]);

  // one identity while the definitions stay (a live refetch of the runs returns new objects)
  const definitionsText = JSON.stringify(runs.map((r) => r.metric_definitions ?? {}));
  const definitions = useMemo(() => JSON.parse(definitionsText) as MetricDefinitions[], [definitionsText]);

  const metricQueries = useQueries({
    queries: runs.map((r) => ({
      queryKey: ["run-metrics", entity, project, r.id],
      queryFn: () => fetchMetrics(entity, project, r.id),
      refetchInterval: isLive(r) ? LIVE_MS : (false as const),
    })),
  });
  const metricsReady = metricQueries.every((q) => !q.isPending);
  const all = new Set<string>();
  for (const q of metricQueries) for (const k of Object.keys(q.data?.metrics ?? {})) if (!SYSTEM_KEYS.has(k)) all.add(k);
  const keysText = [...all].sort().join("\n"); // one identity per set of keys, not per render
  const metricKeys = useMemo(() => (keysText ? keysText.split("\n") : []), [keysText]);

  const settings = useMemo(() => settingsFromParams(params), [params]);
  const onInteractive = useCallback((charts: number) => {
    measureFromNavigation("workspace:interactive", { charts, runs: runs.length, metrics: metricKeys.length });
  }, [runs.length, metricKeys.length]);

  const nothingToDraw = !runsQuery.isPending && metricsReady && (!runs.length || !metricKeys.length);
  useEffect(() => {
    if (nothingToDraw) onInteractive(0);
  }, [nothingToDraw]); // eslint-disable-line react-hooks/exhaustive-deps

  const remove = (id: string) => {
    const next = new URLSearchParams(params);
    next.set("runs", runs.map((r) => r.id).filter((r) => r !== id).join(","));
    setParams(next);
  };

  if (runsQuery.isPending) return <p className="loading">Loading runs…</p>;
  if (runsQuery.isError) return <p className="error" role="alert">{errorText(runsQuery.error)}</p>;
  const missing = asked.filter((id) => !runs.some((r) => r.id === id));
  const base = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;

  return (
    <div className="workspace">
      <header className="workspace-head">
        <h1>Workspace</h1>
        <span className="muted">
          {asked.length ? `${runs.length} selected run${runs.length === 1 ? "" : "s"}`
                        : `the latest ${runs.length} runs`} · <Link to={base}>choose runs in the table</Link>
        </span>
      </header>
      {ids.length > MAX_RUNS && <p className="warning">Showing the first {MAX_RUNS} of {ids.length} runs.</p>}
      {missing.length > 0 && <p className="warning">Not in {project}: {missing.join(", ")}</p>}
      <ul className="run-chips" aria-label="Runs in the charts">
        {runs.map((r, i) => (
          <li key={r.id}>
            <span className="swatch" style={{ background: runColor(i) }} aria-hidden="true" />
            <Link to={`${base}/runs/${encodeURIComponent(r.id)}`}>{r.name ?? r.id}</Link>
            <StateBadge state={r.state} />
            {asked.length > 1 && (
              <button type="button" className="chip-remove" onClick={() => remove(r.id)}
                      aria-label={`Remove ${r.name ?? r.id} from the charts`}>×</button>
            )}
          </li>
        ))}
      </ul>
      {!runs.length ? (
        <p className="empty">No runs in {project} yet.</p>
      ) : (
        <>
          <ChartControls settings={settings} metrics={metricKeys}
                         onChange={(next) => setParams(settingsToParams(next, params), { replace: true })} />
          {metricsReady ? (
            <ChartGrid entity={entity} project={project} metrics={metricKeys} runs={chartRuns} settings={settings}
                       definitions={definitions} live={live} onInteractive={onInteractive} />
          ) : (
            <p className="loading">Loading metrics…</p>
          )}
          <WorkspaceSystem entity={entity} project={project} runs={chartRuns} live={live} />
        </>
      )}
    </div>
  );
}
