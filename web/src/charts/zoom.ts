// A drag-zoom's x window -> the step range to fetch finer buckets for. On the `_step` axis the
// window is the range; on any other axis the steps come from the points drawn in the window
// (plus one on each side, so the line reaches the edges).

import type { Joined } from "./series";
import type { Zoom } from "./types";

export function zoomFor(xMin: number, xMax: number, xAxis: string, joined: Joined): Zoom | null {
  if (!(xMax > xMin)) return null;
  if (xAxis === "_step") {
    const minStep = Math.max(0, Math.floor(xMin));
    const maxStep = Math.ceil(xMax);
    return maxStep > minStep ? { xMin, xMax, minStep, maxStep } : null;
  }
  let minStep = Infinity;
  let maxStep = -Infinity;
  for (const run of joined.runs) {
    let before: number | null = null;
    let after: number | null = null;
    for (let i = 0; i < joined.x.length; i++) {
      const step = run.steps[i];
      if (step === null) continue;
      const x = joined.x[i];
      if (x < xMin) before = step;
      else if (x > xMax) after ??= step;
      else {
        minStep = Math.min(minStep, step);
        maxStep = Math.max(maxStep, step);
      }
    }
    if (before !== null) minStep = Math.min(minStep, before);
    if (after !== null) maxStep = Math.max(maxStep, after);
  }
  if (!Number.isFinite(minStep) || !(maxStep > minStep)) return null;
  return { xMin, xMax, minStep, maxStep };
}

/** Bucket count for a chart `width` px wide: about one per pixel, in a few sizes (a resize
 * within a size does not refetch). */
export function bucketsFor(width: number): number {
  if (width <= 300) return 300;
  if (width <= 600) return 600;
  return 1000;
}
