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

export interface Visibility {
  /** Within `marginPx` of the viewport now. */
  visible: boolean;
  /** Ever was. */
  seen: boolean;
  /** In the viewport itself when mounted. */
  atFirst: boolean;
}

/** Whether the element is on screen (within `marginPx`, to fetch a little ahead of scrolling), and
 * whether it ever was. Checked before the first paint too (the observer reports a frame later), so
 * charts on screen fetch at once. */
export function useVisible(ref: RefObject<HTMLElement | null>, marginPx = 200): Visibility {
  const [state, setState] = useState<Visibility>({ visible: false, seen: false, atFirst: false });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const rect = el.getBoundingClientRect();
    if (rect.top < window.innerHeight && rect.bottom > 0) setState({ visible: true, seen: true, atFirst: true });
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries[entries.length - 1].isIntersecting;
        setState((old) => (old.visible === visible ? old : { ...old, visible, seen: old.seen || visible }));
      },
      { rootMargin: `${marginPx}px` },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, marginPx]);
  return state;
}
