// One system measure against time (seconds since the run started, or wall-clock time), a line
// per device, drawn with uPlot.

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "../../charts/charts.css";
import "./system.css";
import { runColor } from "../../charts/colors";
import { useWidth } from "../../charts/hooks";
import { formatNumber } from "../../charts/plot";
import { formatRuntime } from "./groups";

export type TimeAxis = "runtime" | "wall";

export interface TimeChartProps {
  id: string;
  title: string;
  x: number[];
  /** A line per series; `color` defaults to the palette in order. */
  lines: { label: string; values: (number | null)[]; color?: string }[];
  axis: TimeAxis;
  height?: number;
}

export function TimeChart({ id, title, x, lines, axis, height = 180 }: TimeChartProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const width = useWidth(boxRef);
  const [drawn, setDrawn] = useState(false);
  const points = lines.reduce((n, l) => n + l.values.filter((v) => v !== null).length, 0);

  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!box || width === 0) return;
    plotRef.current?.destroy();
    const wall = axis === "wall";
    const opts: uPlot.Options = {
      width, height, legend: { show: false },
      series: [{ label: wall ? "time" : "runtime" },
               ...lines.map((l, i) => ({ label: l.label, stroke: l.color ?? runColor(i), width: 1.5, spanGaps: true }))],
      scales: { x: { time: wall } },
      axes: [
        wall ? { stroke: "#57606a", grid: { stroke: "#eaeef2" } }
             : { stroke: "#57606a", grid: { stroke: "#eaeef2" }, values: (_u, s) => s.map(formatRuntime) },
        { stroke: "#57606a", grid: { stroke: "#eaeef2" }, size: 56, values: (_u, s) => s.map((v) => formatNumber(v)) },
      ],
      cursor: { points: { show: false } },
      hooks: { draw: [() => setDrawn(true)] },
    };
    plotRef.current = new uPlot(opts, [x, ...lines.map((l) => l.values)] as uPlot.AlignedData, box);
  }, [x, lines, axis, width > 0, height]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (plotRef.current && width > 0) plotRef.current.setSize({ width, height });
  }, [width, height]);
  useEffect(() => () => plotRef.current?.destroy(), []);

  const last = (values: (number | null)[]) => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  };
  return (
    <figure className="chart system-chart" data-metric={id} data-points={points} data-state={drawn ? "drawn" : "loading"}>
      <figcaption className="chart-head"><span className="chart-title" title={id}>{title}</span></figcaption>
      <div ref={boxRef} className="chart-plot" style={{ height }} role="img"
           aria-label={`${title} over ${axis === "wall" ? "time" : "runtime"}`} />
      <ul className="chart-legend">
        {lines.map((l, i) => (
          <li key={i}>
            <span className="swatch" style={{ background: l.color ?? runColor(i) }} aria-hidden="true" />
            {l.label} <span className="legend-value">{formatNumber(last(l.values))}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
