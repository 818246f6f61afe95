import { describe, expect, it } from "vitest";
import type { SystemSamples } from "./api";
import { joinRuns } from "./join";

const samples = (runtime: number[], series: Record<string, (number | null)[]>): SystemSamples => ({
  count: runtime.length, keys: Object.keys(series), runtime, ts: runtime.map((t) => 1e9 + t), series,
});

describe("joinRuns", () => {
  it("puts every run's samples on one runtime axis, gaps where a run has none", () => {
    const charts = joinRuns([
      { id: "a", name: "run-a", color: "#111111", data: samples([0, 15, 30], { "system/cpu_percent": [1, 2, 3] }) },
      { id: "b", name: "run-b", color: "#222222", data: samples([0, 10], {
        "system/cpu_percent": [5, 6], "system/gpu/0/util_percent": [50, 60], "system/gpu/1/util_percent": [70, null],
      }) },
      { id: "c", name: "loading", color: "#333333", data: undefined },
    ]);
    const cpu = charts.find((c) => c.id === "cpu_percent")!;
    expect(cpu.x).toEqual([0, 10, 15, 30]);
    expect(cpu.lines).toEqual([
      { label: "run-a", color: "#111111", values: [1, null, 2, 3] },
      { label: "run-b", color: "#222222", values: [5, 6, null, null] },
    ]);
    const gpu = charts.find((c) => c.id === "gpu/util_percent")!;
    expect(gpu.x).toEqual([0, 10, 15, 30]);  // the chart's x covers every run, even one without GPUs
    expect(gpu.lines.map((l) => [l.label, l.values])).toEqual([
      ["run-b GPU 0", [50, 60, null, null]], ["run-b GPU 1", [70, null, null, null]],
    ]);
  });
});
