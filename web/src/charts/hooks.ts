// Element observers the charts share: width (uPlot is sized in pixels) and visibility (a grid
// of charts fetches only what is on screen).

import { useEffect, useState, type RefObject } from "react";

/** The element's content width, following resizes (0 until measured). */
export function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
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

/** Whether the element is on screen (within `margin`), and whether it ever was. */
export function useVisible(ref: RefObject<HTMLElement | null>, margin = "200px"): { visible: boolean; seen: boolean } {
  const [state, setState] = useState({ visible: false, seen: false });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries[entries.length - 1].isIntersecting;
        setState((old) => (old.visible === visible ? old : { visible, seen: old.seen || visible }));
      },
      { rootMargin: margin },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, margin]);
  return state;
}
