import { describe, expect, it } from "vitest";
import { settingsFromParams, settingsToParams } from "./ChartControls";
import { bucketPoints, joinRuns, runSeries } from "./series";
import { DEFAULT_SETTINGS, type Downsampled } from "./types";
import { bucketsFor, zoomFor } from "./zoom";

function run(steps: number[], xs: number[]) {
  const d: Downsampled = {
    key: "loss", count: steps.length, first: null, last: null,
    buckets: steps.map((s) => ({ start_step: s, end_step: s, last_step: s, last: s, min: null, max: null, count: 1 })),
  };
  return runSeries(bucketPoints(d), xs, 0, false);
}

describe("zoomFor", () => {
  it("on the step axis fetches the selected step range", () => {
    const joined = joinRuns([run([0, 50, 100], [0, 50, 100])]);
    expect(zoomFor(10.4, 60.2, "_step", joined)).toEqual({ xMin: 10.4, xMax: 60.2, minStep: 10, maxStep: 61 });
  });

  it("on another axis fetches the steps drawn in the window and one each side", () => {
    // runtime 0, 1, 2, 3 s at steps 0, 10, 20, 30
    const joined = joinRuns([run([0, 10, 20, 30], [0, 1, 2, 3])]);
    expect(zoomFor(0.5, 2.5, "_runtime", joined)).toEqual({ xMin: 0.5, xMax: 2.5, minStep: 0, maxStep: 30 });
    expect(zoomFor(0.9, 2.1, "_runtime", joined)).toEqual({ xMin: 0.9, xMax: 2.1, minStep: 0, maxStep: 30 });
    expect(zoomFor(1.5, 2.5, "_runtime", joined)).toEqual({ xMin: 1.5, xMax: 2.5, minStep: 10, maxStep: 30 });
  });

  it("takes every run's steps in the window, and the neighbours of one with none in it", () => {
    const joined = joinRuns([run([0, 10, 20], [0, 1, 2]), run([100, 200], [1.5, 1.8])]);
    expect(zoomFor(1.2, 1.9, "_runtime", joined)).toMatchObject({ minStep: 10, maxStep: 200 });
  });

  it("refuses an empty window", () => {
    const joined = joinRuns([run([0, 10], [0, 1])]);
    expect(zoomFor(5, 5, "_step", joined)).toBeNull();
    expect(zoomFor(3, 4, "_runtime", joined)).toBeNull();
  });
});

describe("bucketsFor", () => {
  it("asks for about one bucket per pixel in a few sizes", () => {
    expect(bucketsFor(250)).toBe(300);
    expect(bucketsFor(450)).toBe(600);
    expect(bucketsFor(1400)).toBe(1000);
  });
});

describe("settings in the URL", () => {
  it("round-trips and leaves defaults out", () => {
    const params = settingsToParams({ xAxis: "_runtime", smoothing: 0.6, logScale: true }, new URLSearchParams("runs=a"));
    expect(params.toString()).toBe("runs=a&x=_runtime&smooth=0.6&log=1");
    expect(settingsFromParams(params)).toEqual({ xAxis: "_runtime", smoothing: 0.6, logScale: true });
    // the default x-axis (each chart's step metric, else _step) is no parameter; _step chosen is one
    expect(settingsToParams({ ...DEFAULT_SETTINGS }, params).toString()).toBe("runs=a");
    expect(settingsToParams({ ...DEFAULT_SETTINGS, xAxis: "_step" }, params).toString()).toBe("runs=a&x=_step");
    expect(settingsFromParams(new URLSearchParams("smooth=7"))).toMatchObject({ smoothing: 0.99 });
  });
});
