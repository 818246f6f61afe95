// A run's console, a page at a time by line offset (`GET .../console?offset=&limit=`); while the
// run is live, new lines at the end are polled for.

import { useCallback, useEffect, useRef, useState } from "react";
import { api, seg } from "../../api/client";

export interface ConsoleLine {
  stream: string;
  text: string;
  ts: number;
}

interface ConsolePage {
  lines: ConsoleLine[];
  next_offset: number | null;
}

export const PAGE_LINES = 1000;
const TAIL_POLL_MS = 3000;

export interface ConsoleLines {
  lines: ConsoleLine[];
  /** More lines are stored than loaded. */
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => Promise<void>;
  loadAll: () => Promise<void>;
}

export function useConsoleLines(entity: string, project: string, runId: string, live: boolean): ConsoleLines {
  const [lines, setLines] = useState<ConsoleLine[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // the fetch in flight and what is loaded, read by callbacks without re-creating them
  const state = useRef({ busy: false, loaded: 0, more: true, alive: true });
  const base = `/runs/${seg(entity)}/${seg(project)}/${seg(runId)}/console`;

  const fetchPage = useCallback(async (): Promise<boolean> => {
    const s = state.current;
    if (s.busy) return false;
    s.busy = true;
    setLoading(true);
    try {
      const page = await api<ConsolePage>(`${base}?offset=${s.loaded}&limit=${PAGE_LINES}`);
      if (!s.alive) return false;
      s.loaded += page.lines.length;
      s.more = page.next_offset !== null;
      if (page.lines.length) setLines((old) => old.concat(page.lines));
      setHasMore(s.more);
      setError(null);
      return s.more;
    } catch (e) {
      if (s.alive) setError((e as Error).message);
      return false;
    } finally {
      s.busy = false;
      if (s.alive) setLoading(false);
    }
  }, [base]);

  useEffect(() => {
    state.current = { busy: false, loaded: 0, more: true, alive: true };
    setLines([]);
    setHasMore(true);
    void fetchPage();
    return () => {
      state.current.alive = false;
    };
  }, [fetchPage]);

  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => {
      if (!state.current.more) void fetchPage();
    }, TAIL_POLL_MS);
    return () => clearInterval(timer);
  }, [live, fetchPage]);

  const loadMore = useCallback(async () => {
    if (state.current.more) await fetchPage();
  }, [fetchPage]);

  const loadAll = useCallback(async () => {
    while (state.current.more && state.current.alive && !state.current.busy) {
      if (!(await fetchPage())) break;
    }
  }, [fetchPage]);

  return { lines, hasMore, loading, error, loadMore, loadAll };
}
