// A page of charts, one per metric: searchable by name, in sections by the name's prefix
// (`train/loss` goes under "train"), rendered and fetched only when scrolled into view. Reports
// when every chart that was on screen at first has drawn (the workspace's "interactive").

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { filterMetrics, sections } from "./grid";
import { useVisible } from "./hooks";
import { MetricChart } from "./MetricChart";
import { xAxisFor } from "./stepMetric";
import type { ChartRun, ChartSettings } from "./types";
import type { MetricDefinitions } from "../api/types";

const CHART_HEIGHT = 200;
// the cell's height whether drawn or not (head, plot, two legend lines): nothing shifts as charts
// load, and what is on screen at first is what stays there
const CELL_HEIGHT = CHART_HEIGHT + 84;

export interface ChartGridProps {
  entity: string;
  project: string;
  metrics: string[];
  runs: ChartRun[];
  settings: ChartSettings;
  /** The runs' `define_metric` definitions: a chart's default x-axis is its step metric. */
  definitions: MetricDefinitions[];
  live: boolean;
  /** Once: every chart on screen at first has drawn. */
  onInteractive?: (charts: number) => void;
}

function LazyChart(props: { metric: string; grid: ChartGridProps; onVisible: (metric: string) => void;
                            onSettled: (metric: string, points: number) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const { visible, seen, atFirst } = useVisible(ref);
  const { onVisible, metric } = props;
  useEffect(() => {
    if (atFirst) onVisible(metric);
  }, [atFirst, onVisible, metric]);
  const { entity, project, runs, settings, definitions, live } = props.grid;
  const xAxis = xAxisFor(metric, settings.xAxis, definitions);
  const own = useMemo(() => ({ ...settings, xAxis }), [settings, xAxis]);
  return (
    <div ref={ref} className="chart-cell" style={{ height: CELL_HEIGHT }}>
      {seen ? (
        <MetricChart entity={entity} project={project} metric={props.metric} runs={runs} settings={own}
                     live={live} enabled={visible} height={CHART_HEIGHT} onSettled={props.onSettled} />
      ) : (
        <div className="chart chart-placeholder" aria-hidden="true">{props.metric}</div>
      )}
    </div>
  );
}

export function ChartGrid(props: ChartGridProps) {
  const [query, setQuery] = useState("");
  const shown = useMemo(() => sections(filterMetrics(props.metrics, query)), [props.metrics, query]);
  const count = shown.reduce((n, [, m]) => n + m.length, 0);

  // charts on screen when the page showed, and those of them drawn
  const progress = useRef({ waiting: new Set<string>(), settled: new Set<string>(), done: false });
  const check = useCallback(() => {
    const p = progress.current;
    if (p.done || !p.waiting.size || [...p.waiting].some((m) => !p.settled.has(m))) return;
    p.done = true;
    props.onInteractive?.(p.waiting.size);
  }, [props.onInteractive]); // eslint-disable-line react-hooks/exhaustive-deps
  const onVisible = useCallback((metric: string) => {
    if (!progress.current.done) progress.current.waiting.add(metric);
  }, []);
  const onSettled = useCallback((metric: string) => {
    progress.current.settled.add(metric);
    check();
  }, [check]);

  return (
    <div className="chart-grid-page">
      <label className="chart-search">
        <span className="visually-hidden">Search metrics</span>
        <input type="search" placeholder={`Search ${props.metrics.length} metrics`} value={query}
               onChange={(e) => setQuery(e.target.value)} aria-label="Search metrics" />
        {query && <span className="muted">{count} of {props.metrics.length}</span>}
      </label>
      {!count && <p className="muted">{props.metrics.length ? "No metric matches." : "No metrics logged yet."}</p>}
      {shown.map(([section, metrics]) => (
        <details key={section || "-"} open className="chart-section">
          <summary>{section || "Charts"} <span className="muted">({metrics.length})</span></summary>
          <div className="chart-grid">
            {metrics.map((m) => (
              <LazyChart key={m} metric={m} grid={props} onVisible={onVisible} onSettled={onSettled} />
            ))}
          </div>
        </details>
      ))}
    </div>
  );
}
