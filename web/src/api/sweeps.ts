// Sweeps: the project's list, one sweep, its runs, and pause / resume / stop / cancel.

import { api, seg } from "./client";

export type SweepState = "running" | "paused" | "finished" | "canceled" | "crashed";
export type SweepAction = "pause" | "resume" | "stop" | "cancel";

export interface Sweep {
  id: string;
  entity: string;
  project: string;
  name: string | null;
  method: string;
  config: Record<string, unknown> & { metric?: { name?: string; goal?: string } };
  state: SweepState;
  reason: string | null;
  created_at: number;
  expected_run_count: number | null;
  run_count?: number;
  active_agents?: number;
  best_run?: { id: string; value: number; params: Record<string, unknown> };
}

export interface SweepRun {
  id: string;
  params: Record<string, unknown>;
  state: string; // "pending" until its process starts, then the run's state
  status: string;
  resumes: number;
  stop_reason: string | null;
  metric: string | null;
  value: number | null;
}

const base = (entity: string, project: string) => `/sweeps/${seg(entity)}/${seg(project)}`;

export const listSweeps = (entity: string, project: string) =>
  api<{ sweeps: Sweep[] }>(base(entity, project)).then((r) => r.sweeps);

export const getSweep = (entity: string, project: string, id: string) =>
  api<Sweep>(`${base(entity, project)}/${seg(id)}`);

export const listSweepRuns = (entity: string, project: string, id: string) =>
  api<{ runs: SweepRun[] }>(`${base(entity, project)}/${seg(id)}/runs`).then((r) => r.runs);

export const controlSweep = (entity: string, project: string, id: string, action: SweepAction) =>
  api<Sweep>(`${base(entity, project)}/${seg(id)}/control`, { json: { action } });
