// A run's system metrics (`system/...` samples on their own time axis) and metadata.

import { useQuery } from "@tanstack/react-query";
import { api, seg } from "../../api/client";

export interface SystemSamples {
  /** Samples the run has; `runtime`/`ts` hold at most the requested number, spread evenly. */
  count: number;
  keys: string[];
  runtime: number[];
  ts: number[];
  series: Record<string, (number | null)[]>;
}

export interface MetadataAnswer {
  metadata: Record<string, unknown>;
  updated_at: number | null;
}

const runPath = (entity: string, project: string, runId: string) =>
  `/runs/${seg(entity)}/${seg(project)}/${seg(runId)}`;

export const SAMPLES = 1000;
const LIVE_MS = 15_000; // the SDK samples every 15 s by default

export const systemQuery = (entity: string, project: string, runId: string, live: boolean) => ({
  queryKey: ["run-system", entity, project, runId],
  queryFn: () => api<SystemSamples>(`${runPath(entity, project, runId)}/system?samples=${SAMPLES}`),
  refetchInterval: live ? LIVE_MS : (false as const),
});

export function useSystemSamples(entity: string, project: string, runId: string, live: boolean) {
  return useQuery(systemQuery(entity, project, runId, live));
}

export function useRunMetadata(entity: string, project: string, runId: string) {
  return useQuery({
    queryKey: ["run-metadata", entity, project, runId],
    queryFn: () => api<MetadataAnswer>(`${runPath(entity, project, runId)}/metadata`),
  });
}
