import { describe, expect, it } from "vitest";
import { filterMetrics, sections } from "./grid";

describe("chart sections", () => {
  it("groups metrics by the prefix before '/', unprefixed first, names sorted", () => {
    expect(sections(["val/loss", "lr", "train/loss", "train/acc", "epoch"])).toEqual([
      ["", ["epoch", "lr"]],
      ["train", ["train/acc", "train/loss"]],
      ["val", ["val/loss"]],
    ]);
  });

  it("searches names case-insensitively", () => {
    expect(filterMetrics(["train/Loss", "acc", "val/loss"], " LOSS ")).toEqual(["train/Loss", "val/loss"]);
    expect(filterMetrics(["a"], "")).toEqual(["a"]);
  });
});
