// Element observers the charts share: width (uPlot is sized in pixels) and visibility (a grid
// of charts fetches only what is on screen).

import { useLayoutEffect, useState, type RefObject } from "react";

/** The element's content width, following resizes (0 until measured). Measured before the first
 * paint, so a chart's fetch starts in the render that mounts it. */
export function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(Math.floor(el.getBoundingClientRect().width));
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0].contentRect.width);
      setWidth((old) => (old === w ? old : w));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** Whether the element is on screen (within `marginPx`), and whether it ever was. Checked before
 * the first paint too (the observer reports a frame later), so charts on screen fetch at once. */
export function useVisible(ref: RefObject<HTMLElement | null>, marginPx = 200): { visible: boolean; seen: boolean } {
  const [state, setState] = useState({ visible: false, seen: false });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const rect = el.getBoundingClientRect();
    if (rect.top < window.innerHeight + marginPx && rect.bottom > -marginPx) setState({ visible: true, seen: true });
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries[entries.length - 1].isIntersecting;
        setState((old) => (old.visible === visible ? old : { visible, seen: old.seen || visible }));
      },
      { rootMargin: `${marginPx}px` },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, marginPx]);
  return state;
}
