// Which x-axis a chart uses by default: the metric's `define_metric(..., step_metric=...)`, as the
// runs' definitions say (a name, or a glob such as `val/*`), else `_step`.

import type { MetricDefinitions } from "../api/types";
import { STEP_METRIC_AXIS, type XAxis } from "./types";

function globMatches(glob: string, name: string): boolean {
  const pattern = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`).test(name);
}

/** The step metric defined for `metric` by the first run that defines one: its exact name
 * before a glob, as the SDK resolves them. */
export function stepMetricOf(metric: string, definitions: MetricDefinitions[]): string | null {
  for (const defs of definitions) {
    const exact = defs[metric]?.step_metric;
    if (exact) return exact;
  }
  for (const defs of definitions) {
    for (const [name, def] of Object.entries(defs)) {
      if (name.includes("*") && def.step_metric && globMatches(name, metric)) return def.step_metric;
    }
  }
  return null;
}

/** The x-axis `metric`'s chart uses: the chosen one, or with the default choice its step metric
 * (never itself) else `_step`. */
export function xAxisFor(metric: string, chosen: XAxis, definitions: MetricDefinitions[]): XAxis {
  if (chosen !== STEP_METRIC_AXIS) return chosen;
  const step = stepMetricOf(metric, definitions);
  return step && step !== metric ? step : "_step";
}
