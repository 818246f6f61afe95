// One metric over N runs, drawn with uPlot from the server's buckets: a line per run, a min/max
// band where buckets were downsampled, x-axis/smoothing/log from the page's settings, drag to
// zoom (fetching finer buckets for the zoomed step range), double-click or "Reset zoom" to go back.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./charts.css";
import { measureFromNavigation } from "../perf";
import { fetchBuckets } from "./api";
import { useWidth } from "./hooks";
import { formatNumber, plotData, plotOptions, type PlotHandlers } from "./plot";
import { bucketPoints, drawnPoints, joinRuns, runSeries, xValues, type Joined } from "./series";
import type { ChartRun, ChartSettings, Zoom } from "./types";
import { bucketsFor, zoomFor } from "./zoom";

export interface MetricChartProps {
  entity: string;
  project: string;
  metric: string;
  runs: ChartRun[];
  settings: ChartSettings;
  /** Refetch every few seconds (some run is still running). */
  live?: boolean;
  /** False while off screen: nothing is fetched. */
  enabled?: boolean;
  height?: number;
  /** Called when the chart is first drawn with its data (points drawn), or its fetch failed (0). */
  onSettled?: (metric: string, points: number) => void;
}

const LIVE_INTERVAL_MS = 5000;

export function MetricChart({ entity, project, metric, runs, settings, live = false, enabled = true, height = 220,
                              onSettled }: MetricChartProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const shapeRef = useRef("");
  const pendingMark = useRef(false);
  const width = useWidth(boxRef);
  const [zoom, setZoom] = useState<Zoom | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [drawn, setDrawn] = useState<number | null>(null);

  useEffect(() => setZoom(null), [settings.xAxis]);

  const keys = settings.xAxis === "_step" || settings.xAxis === metric ? [metric] : [metric, settings.xAxis];
  const runIds = runs.map((r) => r.id);
  const query = useQuery({
    queryKey: ["buckets", entity, project, runIds, keys, bucketsFor(width), zoom?.minStep, zoom?.maxStep],
    queryFn: ({ signal }) => fetchBuckets({ entity, project, runs: runIds, keys, buckets: bucketsFor(width),
                                            minStep: zoom?.minStep, maxStep: zoom?.maxStep }, signal),
    enabled: enabled && width > 0 && runs.length > 0,
    refetchInterval: live && !zoom ? LIVE_INTERVAL_MS : false,
    placeholderData: keepPreviousData,
  });

  const shown = useRef<{ joined: Joined | null; count: number }>({ joined: null, count: 0 });
  shown.current = useMemo(() => {
    if (!query.data) return { joined: null, count: 0 };
    // the previous query's data while a new x-axis key loads: it has no x values, keep the plot
    if (query.isPlaceholderData && !keys.every((k) => Object.values(query.data.runs).some((r) => r && k in r))) {
      return shown.current;
    }
    let total = 0;
    const series = runs.map((run) => {
      const perKey = query.data.runs[run.id];
      const points = bucketPoints(perKey?.[metric]);
      total += points.count;
      const xKey = settings.xAxis === "_step" ? undefined : bucketPoints(perKey?.[settings.xAxis]);
      return runSeries(points, xValues(points, settings.xAxis, xKey), settings.smoothing, settings.logScale);
    });
    return { joined: joinRuns(series), count: total };
  }, [query.data, runs, metric, settings.xAxis, settings.smoothing, settings.logScale]); // eslint-disable-line react-hooks/exhaustive-deps
  const { joined, count } = shown.current;

  const joinedRef = useRef<Joined | null>(null);
  joinedRef.current = joined;
  const handlers = useRef<PlotHandlers>(null!);
  handlers.current = {
    onSelect: (xMin, xMax) => {
      if (joinedRef.current) setZoom(zoomFor(xMin, xMax, settings.xAxis, joinedRef.current));
    },
    onCursor: (idx) => setHover(idx),
    onDraw: () => {
      if (!pendingMark.current || !joinedRef.current) return;
      pendingMark.current = false;
      const points = drawnPoints(joinedRef.current);
      measureFromNavigation("chart:drawn", { metric, points });
      setDrawn(points);
      onSettled?.(metric, points);
    },
  };

  useEffect(() => {
    if (query.isError) onSettled?.(metric, 0);
  }, [query.isError]); // eslint-disable-line react-hooks/exhaustive-deps

  const shape = JSON.stringify([runs, settings.xAxis, settings.logScale, settings.smoothing > 0, height]);
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!joined || !box || width === 0) return;
    const data = plotData(joined, settings);
    pendingMark.current = true;
    let plot = plotRef.current;
    if (!plot || shapeRef.current !== shape) {
      plot?.destroy();
      const stable: PlotHandlers = {
        onSelect: (a, b) => handlers.current.onSelect(a, b),
        onCursor: (i) => handlers.current.onCursor(i),
        onDraw: () => handlers.current.onDraw(),
      };
      plot = new uPlot(plotOptions(runs, settings, width, height, stable), data, box);
      plot.over.addEventListener("dblclick", () => setZoom(null));
      plotRef.current = plot;
      shapeRef.current = shape;
    } else {
      plot.setData(data, true);
    }
    if (zoom) plot.setScale("x", { min: zoom.xMin, max: zoom.xMax });
    // a width change is applied by setSize below; only the first measurement creates the plot
  }, [joined, shape, zoom, width > 0]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (plotRef.current && width > 0) plotRef.current.setSize({ width, height });
  }, [width, height]);

  useEffect(() => () => {
    plotRef.current?.destroy();
    plotRef.current = null;
  }, []);

  const state = query.isError ? "error" : !joined ? "loading" : count === 0 ? "empty" : drawn === null ? "loading" : "drawn";
  const hovered = hover !== null && joined ? hover : null;
  return (
    <figure className="chart" data-metric={metric} data-state={state} data-points={count} data-drawn={drawn ?? 0}
            data-min-step={zoom?.minStep} data-max-step={zoom?.maxStep}>
      <figcaption className="chart-head">
        <span className="chart-title" title={metric}>{metric}</span>
        {zoom && (
          <span className="chart-zoom">
            steps {zoom.minStep.toLocaleString()}–{zoom.maxStep.toLocaleString()}
            <button type="button" onClick={() => setZoom(null)}>Reset zoom</button>
          </span>
        )}
        {query.isFetching && <span className="chart-busy" aria-label="loading">…</span>}
      </figcaption>
      <div ref={boxRef} className="chart-plot" style={{ height }} role="img"
           aria-label={`${metric} over ${settings.xAxis} for ${runs.length} run${runs.length === 1 ? "" : "s"}`}>
        {query.isError && <p className="chart-message error">{(query.error as Error).message}</p>}
        {state === "empty" && <p className="chart-message">No points of {metric} in these runs.</p>}
      </div>
      <ul className="chart-legend">
        {runs.map((run, i) => {
          const line = joined?.runs[i]?.line;
          const value = hovered !== null ? line?.[hovered] : lastValue(line);
          return (
            <li key={run.id}>
              <span className="swatch" style={{ background: run.color }} aria-hidden="true" />
              <Link to={`/${encodeURIComponent(entity)}/${encodeURIComponent(project)}/runs/${encodeURIComponent(run.id)}`}>
                {run.name}
              </Link>
              <span className="legend-value">{formatNumber(value)}</span>
            </li>
          );
        })}
        {hovered !== null && joined && (
          <li className="legend-x">{settings.xAxis} {formatNumber(joined.x[hovered])}</li>
        )}
      </ul>
    </figure>
  );
}

function lastValue(values: (number | null)[] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}
