// uPlot options and data for one metric over N runs: per run a line (smoothed when asked, the
// raw line faint behind it) and a min/max band between two invisible edge series.

import type uPlot from "uplot";
import { withAlpha } from "./colors";
import type { Joined } from "./series";
import type { ChartRun, ChartSettings } from "./types";

/** Series per run, in uPlot order after x: line, min, max, and raw when smoothed. */
export function seriesPerRun(settings: ChartSettings): number {
  return settings.smoothing > 0 ? 4 : 3;
}

export function plotData(joined: Joined, settings: ChartSettings): uPlot.AlignedData {
  const data: (number | null)[][] = [joined.x];
  for (const run of joined.runs) {
    data.push(run.line, run.min, run.max);
    if (settings.smoothing > 0) data.push(run.raw);
  }
  return data as uPlot.AlignedData;
}

function formatX(xAxis: string, value: number): string {
  if (xAxis === "_runtime") {
    if (value >= 3600) return `${(value / 3600).toFixed(value >= 36000 ? 0 : 1)}h`;
    if (value >= 60) return `${(value / 60).toFixed(value >= 600 ? 0 : 1)}m`;
    return `${+value.toFixed(2)}s`;
  }
  return formatNumber(value);
}

/** Axis and legend numbers: compact, exact for small integers. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(2);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return +value.toPrecision(4) + "";
}

export interface PlotHandlers {
  onSelect: (xMin: number, xMax: number) => void;
  onCursor: (idx: number | null) => void;
  onDraw: () => void;
}

export function plotOptions(runs: ChartRun[], settings: ChartSettings, width: number, height: number,
                            handlers: PlotHandlers): uPlot.Options {
  const series: uPlot.Series[] = [{ label: settings.xAxis }];
  const bands: uPlot.Band[] = [];
  const per = seriesPerRun(settings);
  runs.forEach((run, i) => {
    const base = 1 + i * per;
    series.push({ label: run.name, stroke: run.color, width: 1.5, spanGaps: true });
    series.push({ label: `${run.name} min`, stroke: "transparent", width: 0, points: { show: false } });
    series.push({ label: `${run.name} max`, stroke: "transparent", width: 0, points: { show: false } });
    if (per === 4) {
      series.push({ label: `${run.name} raw`, stroke: withAlpha(run.color, 0.25), width: 1, spanGaps: true,
                    points: { show: false } });
    }
    bands.push({ series: [base + 2, base + 1], fill: withAlpha(run.color, 0.15) });
  });
  const time = settings.xAxis === "_timestamp";
  return {
    width,
    height,
    series,
    bands,
    legend: { show: false },
    scales: {
      x: { time },
      y: settings.logScale ? { distr: 3 } : {},
    },
    axes: [
      time ? { stroke: "#57606a", grid: { stroke: "#eaeef2" } }
           : { stroke: "#57606a", grid: { stroke: "#eaeef2" },
               values: (_u, splits) => splits.map((v) => formatX(settings.xAxis, v)) },
      { stroke: "#57606a", grid: { stroke: "#eaeef2" }, size: 56,
        values: (_u, splits) => splits.map((v) => formatNumber(v)) },
    ],
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 4) return;
          const xMin = u.posToVal(u.select.left, "x");
          const xMax = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          handlers.onSelect(xMin, xMax);
        },
      ],
      setCursor: [(u) => handlers.onCursor(u.cursor.idx ?? null)],
      draw: [() => handlers.onDraw()],
    },
  };
}
