// The run page's charts tab: every metric the run logged, the workspace's chart grid for one run.

import { useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { ChartControls, settingsFromParams, settingsToParams } from "../../charts/ChartControls";
import { ChartGrid } from "../../charts/ChartGrid";
import { runColor } from "../../charts/colors";
import type { Run } from "../../api/types";
import { chartKeys, type MetricSummary } from "./api";

export function RunCharts({ run, metrics, live }: {
  run: Run; metrics: Record<string, MetricSummary> | undefined; live: boolean;
}) {
  const [params, setParams] = useSearchParams();
  const settings = useMemo(() => settingsFromParams(params), [params]);
  const keys = useMemo(() => chartKeys(metrics), [metrics]);
  const runs = useMemo(() => [{ id: run.id, name: run.name ?? run.id, color: runColor(0) }], [run.id, run.name]);
  const definitionsText = JSON.stringify(run.metric_definitions ?? {});
  const definitions = useMemo(() => [JSON.parse(definitionsText)], [definitionsText]);
  if (!metrics) return <p className="loading">Loading metrics…</p>;
  return (
    <div className="run-charts">
      <ChartControls settings={settings} metrics={keys}
                     onChange={(next) => setParams(settingsToParams(next, params), { replace: true })} />
      <ChartGrid entity={run.entity} project={run.project} metrics={keys} runs={runs} settings={settings}
                 definitions={definitions} live={live} />
    </div>
  );
}
