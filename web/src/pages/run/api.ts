// The run page's reads besides the run itself (api/runs.ts): its metrics and lifecycle events.

import { useQuery } from "@tanstack/react-query";
import { api, seg } from "../../api/client";

export interface MetricSummary {
  last: number | string | null;
  last_step: number;
  min: number | string | null;
  max: number | string | null;
  count: number;
  mean: number | string | null;
}

export interface RunEvent {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  created_at: number;
  actor: string | null;
}

const runPath = (entity: string, project: string, runId: string) =>
  `/runs/${seg(entity)}/${seg(project)}/${seg(runId)}`;

export const fetchMetrics = (entity: string, project: string, runId: string) =>
  api<{ metrics: Record<string, MetricSummary> }>(`${runPath(entity, project, runId)}/metrics`);

export const EVENTS_PAGE = 1000;

export const fetchEvents = (entity: string, project: string, runId: string, after = 0) =>
  api<{ events: RunEvent[] }>(`${runPath(entity, project, runId)}/events?after=${after}&limit=${EVENTS_PAGE}`);

/** Keys logged by the system on every row: axes, not charts. */
export const SYSTEM_KEYS = new Set(["_step", "_runtime", "_timestamp"]);

export function useRunMetrics(entity: string, project: string, runId: string, live: boolean, enabled = true) {
  return useQuery({
    queryKey: ["run-metrics", entity, project, runId],
    queryFn: () => fetchMetrics(entity, project, runId),
    refetchInterval: live ? 5_000 : false,
    enabled,
  });
}

/** The chartable metric names of a `/metrics` answer, sorted. */
export function chartKeys(metrics: Record<string, MetricSummary> | undefined): string[] {
  return Object.keys(metrics ?? {}).filter((k) => !SYSTEM_KEYS.has(k)).sort();
}
