// The server's downsampled history (`/history/buckets`, and per run and key in the workspace's
// batch `/projects/{entity}/{project}/buckets`). JSON has no NaN/Infinity: the server sends them
// as the strings "NaN", "Infinity", "-Infinity".

export type Num = number | string;

export interface Bucket {
  start_step: number;
  end_step: number;
  min: Num | null;
  max: Num | null;
  last: Num;
  last_step: number;
  count: number;
}

export interface Downsampled {
  key: string;
  count: number;
  first: { step: number; value: Num } | null;
  last: { step: number; value: Num } | null;
  buckets: Bucket[];
}

/** The batch's answer: per run id, per key (null: the run is not in the project). */
export interface ProjectBuckets {
  runs: Record<string, Record<string, Downsampled> | null>;
}

/** A run as a chart shows it. */
export interface ChartRun {
  id: string;
  name: string;
  color: string;
}

/** The x-axis: one of the system keys, or any other metric's name; STEP_METRIC_AXIS: each
 * metric's own step metric (`define_metric(step_metric=...)`), else `_step`. */
export type XAxis = "_step" | "_runtime" | "_timestamp" | (string & {});
export const STEP_METRIC_AXIS = "";

export interface ChartSettings {
  xAxis: XAxis;
  /** Exponential moving average weight in [0, 1): 0 is no smoothing. */
  smoothing: number;
  logScale: boolean;
}

export const DEFAULT_SETTINGS: ChartSettings = { xAxis: STEP_METRIC_AXIS, smoothing: 0, logScale: false };

/** A zoomed-in window: the x range shown and the step range whose finer buckets are fetched. */
export interface Zoom {
  xMin: number;
  xMax: number;
  minStep: number;
  maxStep: number;
}
