import { describe, expect, it } from "vitest";
import type { Run } from "../../api/types";
import { discoverKeys, nextOrder, valueAt } from "./columns";
import { groupItems } from "./grouping";

const run = (id: string, config: Record<string, unknown>, summary: Record<string, unknown>, group: string | null = null) =>
  ({ id, config, summary, group } as unknown as Run);

describe("runs table columns", () => {
  it("finds nested config paths and summary keys, underscore keys last", () => {
    const runs = [run("a", { lr: 0.1, opt: { name: "adam", betas: [0.9] } }, { loss: 1, _step: 3 }), run("b", { seed: 1 }, { acc: 0.5 })];
    expect(discoverKeys(runs)).toEqual({
      config: ["config.lr", "config.opt.betas", "config.opt.name", "config.seed"],
      summary: ["summary.acc", "summary.loss", "summary._step"],
    });
    expect(valueAt(runs[0], "config.opt.name")).toBe("adam");
    expect(valueAt(runs[0], "config.opt.name.x")).toBeUndefined();
    expect(valueAt(runs[0], "summary._step")).toBe(3);
  });

  it("keeps flat summary keys whole (dots and slashes are part of them)", () => {
    expect(valueAt(run("a", {}, { "train/loss.avg": 2 }), "summary.train/loss.avg")).toBe(2);
  });

  it("sorts a new numeric column descending, text ascending, and flips the current one", () => {
    expect(nextOrder("-created_at", "summary.loss")).toBe("-summary.loss");
    expect(nextOrder("-created_at", "name")).toBe("name");
    expect(nextOrder("-summary.loss", "summary.loss")).toBe("summary.loss");
    expect(nextOrder("summary.loss", "summary.loss")).toBe("-summary.loss");
  });

  it("groups loaded rows in first-appearance order and hides collapsed groups' rows", () => {
    const runs = [run("a", {}, {}, "g1"), run("b", {}, {}, null), run("c", {}, {}, "g1")];
    const items = groupItems(runs, "group", (r) => r.group, new Set(["(none)"]));
    expect(items.map((i) => (i.kind === "group" ? `${i.label}:${i.count}` : i.row.id))).toEqual(["g1:2", "a", "c", "(none):1"]);
  });
});
