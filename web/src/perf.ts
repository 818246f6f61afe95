// Performance marks the bench (bench/bench_ui.py) reads: `performance.measure(name)` from the
// navigation that showed the page: the document's start for a page opened by URL, the route change
// for one reached inside the app.

let routeStart = 0;
let firstRoute = true;

/** Called by the app on every route change. */
export function routeChanged(): void {
  if (firstRoute) firstRoute = false;
  else routeStart = performance.now();
}

export function measureFromNavigation(name: string, detail?: Record<string, unknown>): void {
  if (typeof performance === "undefined" || !performance.measure) return;
  performance.mark(name, { detail });
  performance.measure(name, { start: routeStart, end: performance.now(), detail });
}
