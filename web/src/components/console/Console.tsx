// A run's console output: virtualized (TanStack Virtual, only the rows on screen are in the
// DOM), ANSI colours as styled spans, search with next/previous over the loaded lines, more
// pages loaded as the end comes into view.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState, type CSSProperties } from "react";
import { highlight, matchingLines, parseAnsi, plainText, type Segment } from "./ansi";
import "./console.css";
import { useConsoleLines } from "./useConsoleLines";

const ROW_PX = 18;

function css(seg: Segment): CSSProperties | undefined {
  const s = seg.style;
  if (!s.color && !s.background && !s.bold && !s.dim && !s.italic && !s.underline) return undefined;
  return {
    color: s.color, background: s.background, fontWeight: s.bold ? 700 : undefined, opacity: s.dim ? 0.7 : undefined,
    fontStyle: s.italic ? "italic" : undefined, textDecoration: s.underline ? "underline" : undefined,
  };
}

export function Console({ entity, project, runId, live = false }: {
  entity: string; project: string; runId: string; live?: boolean;
}) {
  const { lines, hasMore, loading, error, loadMore, loadAll } = useConsoleLines(entity, project, runId, live);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const plain = useMemo(() => lines.map((l) => plainText(l.text)), [lines]);
  const matches = useMemo(() => matchingLines(plain, query), [plain, query]);
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const lastShown = items.length ? items[items.length - 1].index : -1;

  useEffect(() => {
    if (hasMore && !loading && lastShown >= lines.length - 50) void loadMore();
  }, [lastShown, lines.length, hasMore, loading, loadMore]);

  useEffect(() => setCurrent(0), [query]);
  const target = matches.length ? matches[Math.min(current, matches.length - 1)] : null;
  useEffect(() => {
    if (target !== null) virtualizer.scrollToIndex(target, { align: "center" });
  }, [target, virtualizer]);

  const step = (by: number) => {
    if (matches.length) setCurrent((c) => (c + by + matches.length) % matches.length);
  };

  return (
    <section className="console" aria-label="Console output">
      <div className="console-bar">
        <label>
          <span className="visually-hidden">Search console</span>
          <input type="search" placeholder="Search console" value={query} aria-label="Search console"
                 onChange={(e) => setQuery(e.target.value)}
                 onKeyDown={(e) => {
                   if (e.key === "Enter") {
                     e.preventDefault();
                     step(e.shiftKey ? -1 : 1);
                   }
                 }} />
        </label>
        <button type="button" onClick={() => step(-1)} disabled={!matches.length} aria-label="Previous match">↑</button>
        <button type="button" onClick={() => step(1)} disabled={!matches.length} aria-label="Next match">↓</button>
        <span className="console-count" aria-live="polite">
          {query ? (matches.length ? `${Math.min(current, matches.length - 1) + 1} of ${matches.length}` : "no matches")
                 : `${lines.length.toLocaleString()} lines`}
          {query && hasMore ? ` in ${lines.length.toLocaleString()} loaded lines` : ""}
        </span>
        {hasMore && (
          <button type="button" onClick={() => void loadAll()} disabled={loading}>Load all lines</button>
        )}
        {error && <span className="console-error" role="alert">{error}</span>}
      </div>
      <div ref={scrollRef} className="console-scroll" tabIndex={0} data-lines={lines.length}>
        {!lines.length && !loading && !hasMore && <p className="console-empty">This run has written no console output.</p>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((row) => {
            const line = lines[row.index];
            const segments = highlight(parseAnsi(line.text), query);
            return (
              <div key={row.key} className={`console-line${line.stream === "stderr" ? " stderr" : ""}${
                     row.index === target ? " current" : ""}`}
                   style={{ transform: `translateY(${row.start}px)`, height: ROW_PX }} data-index={row.index}>
                <span className="console-no" aria-hidden="true">{row.index + 1}</span>
                <span className="console-text">
                  {segments.map((seg, i) => seg.mark
                    ? <mark key={i} style={css(seg)}>{seg.text}</mark>
                    : <span key={i} style={css(seg)}>{seg.text}</span>)}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
