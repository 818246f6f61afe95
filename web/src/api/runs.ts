import { api, seg } from "./client";
import type { Run, RunsPage } from "./types";

export interface RunsQuery {
  /** The REST filter language as JSON (see components/filters). */
  filters?: unknown;
  /** `-created_at`, `summary.loss`, `+config.lr`... */
  order?: string;
  limit?: number;
  cursor?: string | null;
}

export function runsSearch(query: RunsQuery): string {
  const params = new URLSearchParams();
  if (query.filters !== undefined && query.filters !== null) params.set("filters", JSON.stringify(query.filters));
  if (query.order) params.set("order", query.order);
  if (query.limit) params.set("limit", String(query.limit));
  if (query.cursor) params.set("cursor", query.cursor);
  const text = params.toString();
  return text ? `?${text}` : "";
}

export const listRuns = (entity: string, project: string, query: RunsQuery = {}, signal?: AbortSignal) =>
  api<RunsPage>(`/runs/${seg(entity)}/${seg(project)}${runsSearch(query)}`, { signal });

export const getRun = (entity: string, project: string, runId: string) =>
  api<Run>(`/runs/${seg(entity)}/${seg(project)}/${seg(runId)}`);
