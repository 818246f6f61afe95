import { describe, expect, it } from "vitest";
import type { MetricDefinitions } from "../api/types";
import { settingsFromParams, settingsToParams } from "./ChartControls";
import { stepMetricOf, xAxisFor } from "./stepMetric";
import { STEP_METRIC_AXIS } from "./types";

const defs: MetricDefinitions[] = [
  { loss: { summary: "min" }, "val/*": { step_metric: "epoch" }, "val/acc": { step_metric: "val/step" } },
  { "train/loss": { step_metric: "batch" } },
];

describe("step metrics as the default x-axis", () => {
  it("takes a metric's exact definition before a glob, from any run", () => {
    expect(stepMetricOf("val/acc", defs)).toBe("val/step");
    expect(stepMetricOf("val/loss", defs)).toBe("epoch");
    expect(stepMetricOf("train/loss", defs)).toBe("batch");
    expect(stepMetricOf("loss", defs)).toBeNull();
    expect(stepMetricOf("valx", defs)).toBeNull();
    expect(stepMetricOf("a.b", [{ "a.*": { step_metric: "s" } }])).toBe("s");
    expect(stepMetricOf("aXb", [{ "a.b": { step_metric: "s" } }])).toBeNull(); // "." is literal
  });

  it("uses the step metric only when no other axis was chosen", () => {
    expect(xAxisFor("val/loss", STEP_METRIC_AXIS, defs)).toBe("epoch");
    expect(xAxisFor("loss", STEP_METRIC_AXIS, defs)).toBe("_step");
    expect(xAxisFor("epoch", STEP_METRIC_AXIS, [{ epoch: { step_metric: "epoch" } }])).toBe("_step");
    expect(xAxisFor("val/loss", "_runtime", defs)).toBe("_runtime");
    expect(xAxisFor("val/loss", "_step", defs)).toBe("_step");
  });

  it("keeps the choice in the URL: none is the default, an explicit _step stays", () => {
    expect(settingsFromParams(new URLSearchParams("")).xAxis).toBe(STEP_METRIC_AXIS);
    expect(settingsFromParams(new URLSearchParams("x=_step")).xAxis).toBe("_step");
    const url = (xAxis: string) => settingsToParams({ xAxis, smoothing: 0, logScale: false }, new URLSearchParams()).get("x");
    expect(url(STEP_METRIC_AXIS)).toBeNull();
    expect(url("_step")).toBe("_step");
    expect(url("epoch")).toBe("epoch");
  });
});
