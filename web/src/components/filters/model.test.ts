import { describe, expect, it } from "vitest";
import { fromFilter, parseValue, toFilter, valueText, type Condition, type FilterModel } from "./model";

const model = (conditions: Condition[], combinator: "$and" | "$or" = "$and"): FilterModel => ({ combinator, conditions });

describe("toFilter", () => {
  it("is null without a complete condition", () => {
    expect(toFilter(model([]))).toBeNull();
    expect(toFilter(model([{ field: "summary.loss", op: "$lt", text: "" }]))).toBeNull();
    expect(toFilter(model([{ field: "", op: "$eq", text: "x" }]))).toBeNull();
  });

  it("writes one condition without $and, equality in the implicit form", () => {
    expect(toFilter(model([{ field: "state", op: "$eq", text: "running" }]))).toEqual({ state: "running" });
    expect(toFilter(model([{ field: "summary.loss", op: "$lt", text: "0.5" }]))).toEqual({ "summary.loss": { $lt: 0.5 } });
  });

  it("combines conditions with $and or $or", () => {
    const conditions: Condition[] = [
      { field: "config.lr", op: "$gte", text: "1e-3" },
      { field: "name", op: "$regex", text: "^bold-" },
    ];
    expect(toFilter(model(conditions))).toEqual({ $and: [{ "config.lr": { $gte: 0.001 } }, { name: { $regex: "^bold-" } }] });
    expect(toFilter(model(conditions, "$or"))).toEqual({ $or: [{ "config.lr": { $gte: 0.001 } }, { name: { $regex: "^bold-" } }] });
  });

  it("splits lists for $in, $nin and $all, typed per element", () => {
    expect(toFilter(model([{ field: "state", op: "$in", text: "running, failed," }]))).toEqual({ state: { $in: ["running", "failed"] } });
    expect(toFilter(model([{ field: "config.batch", op: "$nin", text: "32,64" }]))).toEqual({ "config.batch": { $nin: [32, 64] } });
    expect(toFilter(model([{ field: "tags", op: "$all", text: "a, b" }]))).toEqual({ tags: { $all: ["a", "b"] } });
  });

  it("makes $exists a boolean and keeps a regex as typed", () => {
    expect(toFilter(model([{ field: "summary.acc", op: "$exists", text: "" }]))).toEqual({ "summary.acc": { $exists: true } });
    expect(toFilter(model([{ field: "summary.acc", op: "$exists", text: "false" }]))).toEqual({ "summary.acc": { $exists: false } });
    expect(toFilter(model([{ field: "config.opt", op: "$regex", text: " 12 " }]))).toEqual({ "config.opt": { $regex: " 12 " } });
  });
});

describe("parseValue", () => {
  it("types config and summary values like JSON, with quotes forcing text", () => {
    expect(parseValue("config.lr", "0.1")).toBe(0.1);
    expect(parseValue("config.on", "true")).toBe(true);
    expect(parseValue("config.x", "null")).toBeNull();
    expect(parseValue("config.v", '"3"')).toBe("3");
    expect(parseValue("config.opt", "adam")).toBe("adam");
  });

  it("keeps text columns text and number columns numbers", () => {
    expect(parseValue("name", "42")).toBe("42");
    expect(parseValue("group", "true")).toBe("true");
    expect(parseValue("exit_code", "1")).toBe(1);
    expect(parseValue("created_at", "2024-05-01T00:00:00Z")).toBe("2024-05-01T00:00:00Z");
    expect(parseValue("created_at", "1714521600")).toBe(1714521600);
  });

  it("round-trips through valueText", () => {
    for (const [field, value] of [["config.v", "3"], ["config.v", 3], ["config.b", false], ["name", "7"], ["config.s", "adam"]] as const) {
      expect(parseValue(field, valueText(field, value))).toEqual(value);
    }
  });
});

describe("fromFilter", () => {
  it("reads back what toFilter writes", () => {
    const cases: FilterModel[] = [
      model([{ field: "state", op: "$eq", text: "running" }]),
      model([{ field: "summary.loss", op: "$lt", text: "0.5" }, { field: "tags", op: "$in", text: "a, b" }]),
      model([{ field: "config.v", op: "$eq", text: '"3"' }, { field: "name", op: "$regex", text: "x.*" }], "$or"),
      model([{ field: "summary.acc", op: "$exists", text: "false" }]),
    ];
    for (const m of cases) {
      const json = toFilter(m);
      expect(fromFilter(json)).toEqual(m);
      expect(toFilter(fromFilter(json)!)).toEqual(json);
    }
  });

  it("reads several fields of one object as $and, and null as no condition", () => {
    expect(fromFilter({ state: "finished", "config.lr": { $gt: 0.1, $lt: 1 } })).toEqual(model([
      { field: "state", op: "$eq", text: "finished" },
      { field: "config.lr", op: "$gt", text: "0.1" },
      { field: "config.lr", op: "$lt", text: "1" },
    ]));
    expect(fromFilter(null)).toEqual(model([]));
  });

  it("gives up (null) on what the rows cannot show", () => {
    expect(fromFilter({ $and: [{ $or: [{ state: "failed" }, { state: "crashed" }] }, { name: "x" }] })).toBeNull();
    expect(fromFilter({ $or: [{ state: "failed", name: "x" }] })).toBeNull();
    expect(fromFilter({ "config.opt": { name: "adam" } })).toBeNull();
    expect(fromFilter({ state: { $weird: 1 } })).toBeNull();
    expect(fromFilter([1, 2])).toBeNull();
  });
});
