// The chart data calls: the workspace's batch endpoint (one request per chart, every run).

import { api, seg } from "../api/client";
import type { ProjectBuckets } from "./types";

export interface BucketsQuery {
  entity: string;
  project: string;
  runs: string[];
  keys: string[];
  buckets: number;
  minStep?: number;
  maxStep?: number;
}

export function fetchBuckets(q: BucketsQuery, signal?: AbortSignal): Promise<ProjectBuckets> {
  // JSON arrays: a run id or metric key may hold a comma
  const params = new URLSearchParams({ runs: JSON.stringify(q.runs), keys: JSON.stringify(q.keys),
                                       buckets: String(q.buckets) });
  if (q.minStep !== undefined) params.set("min_step", String(q.minStep));
  if (q.maxStep !== undefined) params.set("max_step", String(q.maxStep));
  return api<ProjectBuckets>(`/projects/${seg(q.entity)}/${seg(q.project)}/buckets?${params}`, { signal });
}
