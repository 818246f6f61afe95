// ANSI SGR colour codes in console lines -> styled segments (what a terminal would show), and
// search-match highlighting over those segments. Other escape sequences (cursor moves, erase
// line) are dropped; a carriage return shows what the terminal shows: the text after it.

export interface Style {
  color?: string;
  background?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export interface Segment {
  text: string;
  style: Style;
  /** Inside a search match. */
  mark?: boolean;
}

// xterm's 16 colours, tuned for the console's dark background
const BASIC = ["#484f58", "#ff7b72", "#3fb950", "#d29922", "#58a6ff", "#bc8cff", "#39c5cf", "#b1bac4",
               "#6e7681", "#ffa198", "#56d364", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#f0f6fc"];

function color256(n: number): string | undefined {
  if (n < 0 || n > 255) return undefined;
  if (n < 16) return BASIC[n];
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return `rgb(${level}, ${level}, ${level})`;
  }
  const cube = n - 16;
  const level = (c: number) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${level(Math.floor(cube / 36))}, ${level(Math.floor(cube / 6) % 6)}, ${level(cube % 6)})`;
}

/** Apply one SGR parameter list to `style`. */
function applySgr(style: Style, params: number[]): Style {
  const next = { ...style };
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p === 0) {
      for (const k of Object.keys(next)) delete next[k as keyof Style];
    } else if (p === 1) next.bold = true;
    else if (p === 2) next.dim = true;
    else if (p === 3) next.italic = true;
    else if (p === 4) next.underline = true;
    else if (p === 22) { delete next.bold; delete next.dim; }
    else if (p === 23) delete next.italic;
    else if (p === 24) delete next.underline;
    else if (p >= 30 && p <= 37) next.color = BASIC[p - 30];
    else if (p >= 90 && p <= 97) next.color = BASIC[p - 90 + 8];
    else if (p >= 40 && p <= 47) next.background = BASIC[p - 40];
    else if (p >= 100 && p <= 107) next.background = BASIC[p - 100 + 8];
    else if (p === 39) delete next.color;
    else if (p === 49) delete next.background;
    else if (p === 38 || p === 48) {
      const key = p === 38 ? "color" : "background";
      let value: string | undefined;
      if (params[i + 1] === 5) {
        value = color256(params[i + 2]);
        i += 2;
      } else if (params[i + 1] === 2) {
        const [r, g, b] = params.slice(i + 2, i + 5);
        value = `rgb(${r ?? 0}, ${g ?? 0}, ${b ?? 0})`;
        i += 4;
      }
      if (value) next[key] = value;
    }
  }
  return next;
}

// CSI: ESC [ params intermediates final; OSC: ESC ] ... BEL or ESC \; other two-byte escapes
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b(?:\[([0-9;:?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

/** What the terminal shows of a line written with carriage returns (progress bars). */
function afterCarriageReturn(line: string): string {
  const trimmed = line.replace(/\r+$/, "");
  const at = trimmed.lastIndexOf("\r");
  return at < 0 ? trimmed : trimmed.slice(at + 1);
}

export function parseAnsi(line: string): Segment[] {
  const text = afterCarriageReturn(line);
  const segments: Segment[] = [];
  let style: Style = {};
  let last = 0;
  for (const match of text.matchAll(ESCAPE)) {
    if (match.index > last) segments.push({ text: text.slice(last, match.index), style });
    last = match.index + match[0].length;
    if (match[2] === "m") {
      const params = (match[1] || "0").split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
      style = applySgr(style, params);
    }
  }
  if (last < text.length) segments.push({ text: text.slice(last), style });
  return segments;
}

/** The line's text as shown, without escape codes (what search looks in). */
export function plainText(line: string): string {
  return parseAnsi(line).map((s) => s.text).join("");
}

/** Split segments so every case-insensitive occurrence of `query` is its own marked segment. */
export function highlight(segments: Segment[], query: string): Segment[] {
  if (!query) return segments;
  const plain = segments.map((s) => s.text).join("");
  const lower = plain.toLowerCase();
  const needle = query.toLowerCase();
  const ranges: [number, number][] = [];
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
    ranges.push([at, at + needle.length]);
  }
  if (!ranges.length) return segments;
  const out: Segment[] = [];
  let offset = 0;
  for (const seg of segments) {
    const start = offset;
    const end = offset + seg.text.length;
    let cursor = start;
    for (const [a, b] of ranges) {
      if (b <= cursor || a >= end) continue;
      const from = Math.max(a, cursor);
      const to = Math.min(b, end);
      if (from > cursor) out.push({ ...seg, text: plain.slice(cursor, from) });
      out.push({ ...seg, text: plain.slice(from, to), mark: true });
      cursor = to;
    }
    if (cursor < end) out.push({ ...seg, text: plain.slice(cursor, end) });
    offset = end;
  }
  return out;
}

/** Indices of the lines whose shown text contains `query` (case-insensitive). */
export function matchingLines(plain: string[], query: string): number[] {
  if (!query) return [];
  const needle = query.toLowerCase();
  const found: number[] = [];
  plain.forEach((line, i) => {
    if (line.toLowerCase().includes(needle)) found.push(i);
  });
  return found;
}
