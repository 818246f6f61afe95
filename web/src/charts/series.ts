// Buckets -> the arrays uPlot draws: per run a line of each bucket's last value (at its last
// step), a min/max band where a bucket holds more than one point, x values for the chosen axis,
// and every run joined on one x array (uPlot's data shape).

import type { Bucket, Downsampled, Num } from "./types";

/** A number from the server's JSON: NaN and the infinities (sent as strings) cannot be drawn. */
export function finite(value: Num | null | undefined): number | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  return value;
}

/** One run's points of one metric, in step order. */
export interface RunPoints {
  steps: number[];
  last: (number | null)[];
  /** Band edges: null where the bucket holds one point (nothing to band). */
  min: (number | null)[];
  max: (number | null)[];
  /** Raw points the buckets stand for. */
  count: number;
}

export function bucketPoints(d: Downsampled | null | undefined): RunPoints {
  const buckets: Bucket[] = d?.buckets ?? [];
  const banded = (b: Bucket, v: Num | null) => (b.count > 1 ? finite(v) : null);
  return {
    steps: buckets.map((b) => b.last_step),
    last: buckets.map((b) => finite(b.last)),
    min: buckets.map((b) => banded(b, b.min)),
    max: buckets.map((b) => banded(b, b.max)),
    count: d?.count ?? 0,
  };
}

/** The value of a step-ordered series at `step`: exact where it has the step, linear between
 * neighbours, null outside its range. What places a metric on a `_runtime`/`_timestamp`/other
 * metric axis: exact when both keys were logged at the same steps and not downsampled, within
 * one bucket otherwise. */
export function valueAt(steps: number[], values: (number | null)[], step: number): number | null {
  let lo = 0;
  let hi = steps.length - 1;
  if (hi < 0 || step < steps[0] || step > steps[hi]) return null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] === step) return values[mid];
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid - 1;
  }
  const a = values[hi];
  const b = values[lo];
  if (a === null || b === null) return null;
  return a + ((b - a) * (step - steps[hi])) / (steps[lo] - steps[hi]);
}

/** A run's points with their x values (`xs[i]` null: the point has no x and is left out). */
export function xValues(points: RunPoints, xAxis: string, xKey?: RunPoints): (number | null)[] {
  if (xAxis === "_step") return points.steps;
  if (!xKey) return points.steps.map(() => null);
  return points.steps.map((s) => valueAt(xKey.steps, xKey.last, s));
}

/** Exponential moving average (W&B's: debiased, so the start is not pulled towards zero).
 * Gaps stay gaps and do not reset the average. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let avg = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    avg = avg * weight + (1 - weight) * v;
    n += 1;
    return avg / (1 - weight ** n);
  });
}

/** What one run contributes to a chart: its points placed on x, per band/line. */
export interface RunSeries {
  x: (number | null)[];
  line: (number | null)[];
  raw: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  steps: number[];
}

export function runSeries(points: RunPoints, xs: (number | null)[], smoothing: number, logScale: boolean): RunSeries {
  // a log axis cannot place zero or negatives: they become gaps
  const clip = (arr: (number | null)[]) => (logScale ? arr.map((v) => (v !== null && v > 0 ? v : null)) : arr);
  const raw = clip(points.last);
  return { x: xs, line: clip(smooth(raw, smoothing)), raw, min: clip(points.min), max: clip(points.max),
           steps: points.steps };
}

/** Every run on one sorted x array (uPlot's AlignedData): per run [line, min, max] and, when
 * smoothed, the raw line too; null where a run has no point at that x. */
export interface Joined {
  x: number[];
  /** Per run, per field, aligned with `x`. */
  runs: { line: (number | null)[]; raw: (number | null)[]; min: (number | null)[]; max: (number | null)[];
          steps: (number | null)[] }[];
}

export function joinRuns(series: RunSeries[]): Joined {
  const all = new Set<number>();
  for (const s of series) for (const x of s.x) if (x !== null) all.add(x);
  const x = Array.from(all).sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const runs = series.map((s) => {
    const empty = () => new Array<number | null>(x.length).fill(null);
    const out = { line: empty(), raw: empty(), min: empty(), max: empty(), steps: empty() };
    s.x.forEach((xv, i) => {
      if (xv === null) return;
      const at = index.get(xv)!;
      out.line[at] = s.line[i];
      out.raw[at] = s.raw[i];
      out.min[at] = s.min[i];
      out.max[at] = s.max[i];
      out.steps[at] = s.steps[i];
    });
    return out;
  });
  return { x, runs };
}

/** Points drawn (non-null line values) over all runs. */
export function drawnPoints(joined: Joined): number {
  let n = 0;
  for (const r of joined.runs) for (const v of r.line) if (v !== null) n += 1;
  return n;
}
