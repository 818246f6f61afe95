import { describe, expect, it } from "vitest";
import { formatRuntime, groupKeys } from "./groups";

describe("groupKeys", () => {
  it("puts each device of a measure in one chart and orders charts cpu, process, memory, gpu, disk, network", () => {
    const groups = groupKeys([
      "system/network/sent_mb_s", "system/gpu/1/util_percent", "system/gpu/0/util_percent", "system/cpu_percent",
      "system/gpu/10/util_percent", "system/proc/rss_mb", "system/memory/used_mb", "system/cpu/1/percent",
      "system/cpu/0/percent", "loss",
    ]);
    expect(groups.map((g) => g.id)).toEqual([
      "cpu_percent", "cpu/percent", "proc/rss_mb", "memory/used_mb", "gpu/util_percent", "network/sent_mb_s",
    ]);
    const gpu = groups.find((g) => g.id === "gpu/util_percent")!;
    expect(gpu.title).toBe("GPU utilization (%)");
    expect(gpu.lines.map((l) => l.label)).toEqual(["GPU 0", "GPU 1", "GPU 10"]);
    expect(groups[1].lines.map((l) => l.label)).toEqual(["core 0", "core 1"]);
  });

  it("keeps unknown keys, titled by their name", () => {
    expect(groupKeys(["system/rank-1/cpu_percent"])).toEqual([
      { id: "rank-1/cpu_percent", title: "rank-1/cpu_percent", lines: [{ key: "system/rank-1/cpu_percent", label: "this run" }] },
    ]);
  });
});

describe("formatRuntime", () => {
  it("reads as seconds, minutes, hours", () => {
    expect([formatRuntime(12.34), formatRuntime(90), formatRuntime(7200)]).toEqual(["12.3s", "1.5m", "2.0h"]);
  });
});
