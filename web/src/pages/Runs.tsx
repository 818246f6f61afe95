import type { RowSelectionState } from "@tanstack/react-table";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useLiveRuns, useProject, useRunsPages } from "../api/hooks";
import type { Run } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { FilterBuilder } from "../components/filters/FilterBuilder";
import { NUMBER_FIELDS, TEXT_FIELDS, TIME_FIELDS } from "../components/filters/model";
import { ColumnPicker } from "../components/runs/ColumnPicker";
import {
  discoverKeys,
  FIXED_COLUMNS,
  keyColumn,
  nextOrder,
  OPTIONAL_RUN_COLUMNS,
} from "../components/runs/columns";
import { RunsTable } from "../components/runs/RunsTable";
import { measureFromNavigation } from "../perf";

const DEFAULT_ORDER = "-created_at";

function parseFilters(text: string | null): { filters: unknown; error: string | null } {
  if (!text) return { filters: null, error: null };
  try {
    return { filters: JSON.parse(text), error: null };
  } catch {
    return { filters: null, error: "The filters in this URL are not valid JSON; they were ignored." };
  }
}

/** The visible columns, kept per project in this browser; until chosen, the run fields and a few
 * summary and config keys. */
function useColumns(entity: string, project: string, configKeys: string[], summaryKeys: string[]) {
  const storageKey = `trackwell.columns.${entity}/${project}`;
  const [chosen, setChosen] = useState<string[] | null>(() => {
    const stored = localStorage.getItem(storageKey);
    return stored ? (JSON.parse(stored) as string[]) : null;
  });
  const visible = chosen ?? [
    ...FIXED_COLUMNS.map((c) => c.id),
    ...summaryKeys.filter((k) => !k.startsWith("summary._")).slice(0, 4),
    ...configKeys.slice(0, 4),
  ];
  const choose = (next: string[]) => {
    localStorage.setItem(storageKey, JSON.stringify(next));
    setChosen(next);
  };
  return [visible, choose] as const;
}

/** `/:entity/:project`: the runs table with server-side filter, sort and cursor paging. */
export default function Runs() {
  const { entity, project } = useParams() as { entity: string; project: string };
  const [params, setParams] = useSearchParams();
  const order = params.get("order") || DEFAULT_ORDER;
  const { filters, error: urlError } = parseFilters(params.get("filters"));
  const groupBy = params.get("group") ?? "";
  const setParam = (name: string, value: string | null) =>
    setParams((now) => {
      const next = new URLSearchParams(now);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    }, { replace: true });

  const pages = useRunsPages(entity, project, filters, order);
  const projectInfo = useProject(entity, project);
  const loaded = useMemo(() => pages.data?.pages.flatMap((page) => page.runs) ?? [], [pages.data]);

  // live updates: the latest state of runs shown as running, merged over the loaded pages
  const latest = useRef(new Map<string, Run>());
  const running = loaded.filter((run) => (latest.current.get(run.id) ?? run).state === "running").map((r) => r.id);
  const live = useLiveRuns(entity, project, running);
  const runs = useMemo(() => {
    for (const run of live.data ?? []) latest.current.set(run.id, run);
    return latest.current.size ? loaded.map((run) => latest.current.get(run.id) ?? run) : loaded;
  }, [loaded, live.data]);

  const { config: configKeys, summary: summaryKeys } = useMemo(() => discoverKeys(runs), [runs]);
  const [visible, setVisible] = useColumns(entity, project, configKeys, summaryKeys);
  const columns = useMemo(() => {
    const known = new Map([...FIXED_COLUMNS, ...OPTIONAL_RUN_COLUMNS].map((c) => [c.id, c]));
    return visible.map((id) => known.get(id) ?? keyColumn(id));
  }, [visible]);

  const [selection, setSelection] = useState<RowSelectionState>({});
  const selected = Object.keys(selection).filter((id) => selection[id]);

  const measured = useRef(false);
  useEffect(() => {
    if (!measured.current && runs.length > 0) {
      measured.current = true;
      measureFromNavigation("runs-table:first-rows", { rows: runs.length });
    }
  }, [runs.length]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const base = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;
  const workspace = (ids: string[]) => `${base}/workspace${ids.length ? `?runs=${ids.map(encodeURIComponent).join(",")}` : ""}`;
  const total = projectInfo.data?.runs;
  const filterFields = [...TEXT_FIELDS, ...NUMBER_FIELDS, ...TIME_FIELDS, ...configKeys, ...summaryKeys];
  const groupChoices = ["group", "job_type", ...configKeys];

  return (
    <section className="page runs-page">
      <div className="page-title">
        <h1>{project}</h1>
        <p className="count" aria-live="polite">
          {pages.isSuccess && (
            <>
              {runs.length.toLocaleString()}
              {hasNextPage ? "+" : ""} {filters ? "matching runs" : "runs"} loaded
              {total !== undefined && !filters ? ` of ${total.toLocaleString()}` : ""}
            </>
          )}
        </p>
        <Link to={workspace(selected)} className="button">Workspace</Link>
        <Link to={`${base}/sweeps`} className="button">Sweeps</Link>
        <Link to={`${base}/artifacts`} className="button">Artifacts</Link>
      </div>
      <ErrorMessage error={urlError} />
      <FilterBuilder value={filters} fields={filterFields}
        onApply={(next) => setParam("filters", next ? JSON.stringify(next) : null)} />
      <div className="toolbar">
        <span>
          <label htmlFor="group-by">Group by</label>{" "}
          <select id="group-by" value={groupBy} onChange={(e) => setParam("group", e.target.value || null)}>
            <option value="">nothing</option>
            {groupChoices.map((field) => (
              <option key={field} value={field}>{field}</option>
            ))}
          </select>
        </span>
        <ColumnPicker visible={visible} onChange={setVisible} configKeys={configKeys} summaryKeys={summaryKeys} />
        <button type="button" onClick={() => void pages.refetch()} disabled={pages.isFetching}>Refresh</button>
        <span className="selection" aria-live="polite">
          {selected.length > 0 && (
            <>
              {selected.length} selected{" "}
              <Link to={workspace(selected)} className="button primary">Compare {selected.length} in workspace</Link>{" "}
              <button type="button" onClick={() => setSelection({})}>Clear selection</button>
            </>
          )}
        </span>
      </div>
      <ErrorMessage error={pages.error} />
      {pages.isPending && <p className="loading">Loading runs…</p>}
      {pages.isSuccess && runs.length === 0 && (
        <p className="empty">{filters ? "No runs match these filters." : "No runs in this project yet."}</p>
      )}
      {runs.length > 0 && (
        <RunsTable entity={entity} project={project} runs={runs} columns={columns} order={order}
          onHeaderClick={(id) => setParam("order", nextOrder(order, id))}
          selection={selection} onSelectionChange={setSelection} groupBy={groupBy}
          hasMore={!!hasNextPage} loadingMore={isFetchingNextPage} loadMore={loadMore} />
      )}
    </section>
  );
}
