import { describe, expect, it } from "vitest";
import { highlight, matchingLines, parseAnsi, plainText } from "./ansi";

describe("parseAnsi", () => {
  it("styles text by SGR codes and resets", () => {
    const segs = parseAnsi("\x1b[31mred\x1b[0m plain \x1b[1;32mbold green\x1b[22m green");
    expect(segs.map((s) => s.text)).toEqual(["red", " plain ", "bold green", " green"]);
    expect(segs[0].style.color).toBe("#ff7b72");
    expect(segs[1].style).toEqual({});
    expect(segs[2].style).toEqual({ bold: true, color: "#3fb950" });
    expect(segs[3].style).toEqual({ color: "#3fb950" });
  });

  it("reads 256-colour and true-colour codes, and backgrounds", () => {
    const [a, b, c] = parseAnsi("\x1b[38;5;196ma\x1b[48;2;1;2;3mb\x1b[39;49;4mc");
    expect(a.style.color).toBe("rgb(255, 0, 0)");
    expect(b.style).toEqual({ color: "rgb(255, 0, 0)", background: "rgb(1, 2, 3)" });
    expect(c.style).toEqual({ underline: true });
  });

  it("drops other escapes and shows what follows the last carriage return", () => {
    expect(plainText("\x1b[2K\x1b[1Adone")).toBe("done");
    expect(plainText(" 10%|#   |\r 50%|##  |\r100%|####|\r")).toBe("100%|####|");
    expect(plainText("\x1b]0;title\x07text")).toBe("text");
  });

  it("leaves a line without escapes as one unstyled segment", () => {
    expect(parseAnsi("epoch 1 loss=0.5")).toEqual([{ text: "epoch 1 loss=0.5", style: {} }]);
    expect(parseAnsi("")).toEqual([]);
  });
});

describe("search", () => {
  it("marks every occurrence across styled segments, case-insensitively", () => {
    const segs = highlight(parseAnsi("Loss \x1b[31mlo\x1b[0mss LOSS"), "loss");
    expect(segs.filter((s) => s.mark).map((s) => s.text)).toEqual(["Loss", "lo", "ss", "LOSS"]);
    expect(segs.map((s) => s.text).join("")).toBe("Loss loss LOSS");
    expect(segs.find((s) => s.text === "lo")?.style.color).toBe("#ff7b72");
  });

  it("finds the lines that contain the query", () => {
    expect(matchingLines(["a loss", "acc", "LOSS b"], "loss")).toEqual([0, 2]);
    expect(matchingLines(["a"], "")).toEqual([]);
  });
});
