import { describe, expect, it } from "vitest";
import { bucketPoints, drawnPoints, finite, joinRuns, runSeries, smooth, valueAt, xValues } from "./series";
import type { Downsampled } from "./types";

const downsampled = (buckets: [number, number | string, number | string | null, number | string | null, number][]):
  Downsampled => ({
  key: "loss",
  count: buckets.reduce((n, b) => n + b[4], 0),
  first: null,
  last: null,
  buckets: buckets.map(([lastStep, last, min, max, count]) => ({
    start_step: lastStep, end_step: lastStep, last_step: lastStep, last, min, max, count,
  })),
});

describe("bucketPoints", () => {
  it("takes each bucket's last value at its last step, and bands only buckets of several points", () => {
    const points = bucketPoints(downsampled([[4, 0.5, 0.2, 0.9, 5], [5, 0.4, 0.4, 0.4, 1], [9, 0.1, 0.05, 0.3, 4]]));
    expect(points.steps).toEqual([4, 5, 9]);
    expect(points.last).toEqual([0.5, 0.4, 0.1]);
    expect(points.min).toEqual([0.2, null, 0.05]);
    expect(points.max).toEqual([0.9, null, 0.3]);
    expect(points.count).toBe(10);
  });

  it("turns the server's NaN and Infinity strings into gaps", () => {
    expect(finite("NaN")).toBeNull();
    expect(finite("Infinity")).toBeNull();
    expect(finite(-2)).toBe(-2);
    const points = bucketPoints(downsampled([[0, "NaN", null, null, 1], [1, 2, "-Infinity", 3, 2]]));
    expect(points.last).toEqual([null, 2]);
    expect(points.min).toEqual([null, null]);
  });

  it("is empty for a run without the metric", () => {
    expect(bucketPoints(undefined)).toEqual({ steps: [], last: [], min: [], max: [], count: 0 });
  });
});

describe("x values", () => {
  it("interpolates another key at each step: exact at its steps, linear between, none outside", () => {
    const steps = [0, 10, 20];
    const runtime = [0, 5, 15];
    expect(valueAt(steps, runtime, 10)).toBe(5);
    expect(valueAt(steps, runtime, 15)).toBe(10);
    expect(valueAt(steps, runtime, 21)).toBeNull();
    expect(valueAt([], [], 1)).toBeNull();
  });

  it("uses the step itself on the _step axis", () => {
    const points = bucketPoints(downsampled([[3, 1, null, null, 1], [7, 2, null, null, 1]]));
    expect(xValues(points, "_step")).toEqual([3, 7]);
    const runtime = bucketPoints(downsampled([[3, 30, null, null, 1], [7, 70, null, null, 1]]));
    expect(xValues(points, "_runtime", runtime)).toEqual([30, 70]);
    expect(xValues(points, "_runtime")).toEqual([null, null]);
  });
});

describe("smooth", () => {
  it("is a debiased exponential moving average: a constant stays constant", () => {
    expect(smooth([2, 2, 2], 0.9)).toEqual([2, 2, 2].map(() => expect.closeTo(2, 10)));
  });

  it("weights the past by the weight and keeps gaps", () => {
    const out = smooth([0, null, 10], 0.5);
    // avg after 0: 0 (debiased 0); after 10: 0*0.5 + 0.5*10 = 5, debiased by 1 - 0.25
    expect(out[0]).toBe(0);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeCloseTo(5 / 0.75);
  });

  it("leaves values alone at weight 0", () => {
    const values = [1, 3, 2];
    expect(smooth(values, 0)).toBe(values);
  });
});

describe("joinRuns", () => {
  it("puts runs on one sorted x array with gaps where a run has no point", () => {
    const a = runSeries(bucketPoints(downsampled([[0, 1, null, null, 1], [2, 3, null, null, 1]])), [0, 2], 0, false);
    const b = runSeries(bucketPoints(downsampled([[1, 5, 4, 6, 3]])), [1], 0, false);
    const joined = joinRuns([a, b]);
    expect(joined.x).toEqual([0, 1, 2]);
    expect(joined.runs[0].line).toEqual([1, null, 3]);
    expect(joined.runs[1].line).toEqual([null, 5, null]);
    expect(joined.runs[1].min).toEqual([null, 4, null]);
    expect(joined.runs[1].steps).toEqual([null, 1, null]);
    expect(drawnPoints(joined)).toBe(3);
  });

  it("drops points without an x and on a log scale values that are not positive", () => {
    const points = bucketPoints(downsampled([[0, -1, null, null, 1], [1, 0, null, null, 1], [2, 10, null, null, 1]]));
    const joined = joinRuns([runSeries(points, [null, 1, 2], 0, true)]);
    expect(joined.x).toEqual([1, 2]);
    expect(joined.runs[0].line).toEqual([null, 10]);
  });

  it("keeps the raw line under a smoothed one", () => {
    const points = bucketPoints(downsampled([[0, 0, null, null, 1], [1, 10, null, null, 1]]));
    const s = runSeries(points, [0, 1], 0.5, false);
    expect(s.raw).toEqual([0, 10]);
    expect(s.line[1]).toBeCloseTo(5 / 0.75);
  });
});
