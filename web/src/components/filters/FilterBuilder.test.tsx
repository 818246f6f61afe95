import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FilterBuilder } from "./FilterBuilder";

afterEach(cleanup);

describe("FilterBuilder", () => {
  it("builds a filter from rows and applies it on submit", () => {
    const onApply = vi.fn();
    render(<FilterBuilder value={null} onApply={onApply} fields={["summary.loss"]} />);
    fireEvent.click(screen.getByRole("button", { name: "+ Add filter" }));
    fireEvent.change(screen.getByLabelText("Field of condition 1"), { target: { value: "summary.loss" } });
    fireEvent.change(screen.getByLabelText("Operator of condition 1"), { target: { value: "$lt" } });
    fireEvent.change(screen.getByLabelText("Value of condition 1"), { target: { value: "0.5" } });
    expect(onApply).not.toHaveBeenCalled(); // nothing is sent while typing
    fireEvent.click(screen.getByRole("button", { name: "+ Add filter" }));
    fireEvent.change(screen.getByLabelText("Field of condition 2"), { target: { value: "state" } });
    fireEvent.change(screen.getByLabelText("Value of condition 2"), { target: { value: "finished" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onApply).toHaveBeenLastCalledWith({ $and: [{ "summary.loss": { $lt: 0.5 } }, { state: "finished" }] });

    fireEvent.change(screen.getByLabelText("Match"), { target: { value: "$or" } });
    fireEvent.click(screen.getByRole("button", { name: "Remove condition 2" }));
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onApply).toHaveBeenLastCalledWith({ "summary.loss": { $lt: 0.5 } });
  });

  it("shows an applied filter as rows, offers tag operators for tags, and clears", () => {
    const onApply = vi.fn();
    render(<FilterBuilder value={{ tags: { $all: ["a", "b"] } }} onApply={onApply} fields={[]} />);
    expect(screen.getByLabelText("Field of condition 1")).toHaveProperty("value", "tags");
    const operator = screen.getByLabelText("Operator of condition 1") as HTMLSelectElement;
    expect(operator.value).toBe("$all");
    expect([...operator.options].map((o) => o.textContent)).toContain("has all of");
    expect(screen.getByLabelText("Value of condition 1")).toHaveProperty("value", "a, b");
    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    expect(onApply).toHaveBeenLastCalledWith(null);
  });

  it("edits a nested filter as JSON and refuses invalid JSON", () => {
    const onApply = vi.fn();
    const nested = { $or: [{ $and: [{ state: "failed" }, { "config.lr": { $gt: 1 } }] }, { state: "crashed" }] };
    render(<FilterBuilder value={nested} onApply={onApply} fields={[]} />);
    const editor = screen.getByLabelText(/Filter JSON/) as HTMLTextAreaElement;
    expect(JSON.parse(editor.value)).toEqual(nested);
    fireEvent.change(editor, { target: { value: "{state: 1" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(screen.getByRole("alert").textContent).toMatch(/Not valid filter JSON/);
    expect(onApply).not.toHaveBeenCalled();
    fireEvent.change(editor, { target: { value: '{"state": "killed"}' } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(onApply).toHaveBeenLastCalledWith({ state: "killed" });
    fireEvent.click(screen.getByRole("button", { name: "Edit as rows" }));
    expect(screen.getByLabelText("Value of condition 1")).toHaveProperty("value", "killed");
  });
});
