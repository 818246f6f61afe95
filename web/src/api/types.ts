// Shapes of the REST answers the UI reads (docs/auth.md, docs/architecture.md).

export type RunState =
  | "running"
  | "finished"
  | "failed"
  | "crashed"
  | "killed"
  | "preempting"
  | "preempted"
  | string;

export interface Run {
  entity: string;
  project: string;
  id: string;
  name: string | null;
  group: string | null;
  job_type: string | null;
  tags: string[];
  notes: string | null;
  state: RunState;
  exit_code: number | null;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  created_at: number;
  updated_at: number | null;
  heartbeat_at: number | null;
  runtime: number | null;
  host: string | null;
  program: string | null;
  python?: string | null;
  forked_from: { id: string; step: number } | null;
  created_by: string | null;
  /** `define_metric` definitions by metric name or glob (`val/*`). */
  metric_definitions?: MetricDefinitions;
}

export interface MetricDefinition {
  summary?: string;
  step_metric?: string;
  step_sync?: boolean;
  hidden?: boolean;
  goal?: string;
}

export type MetricDefinitions = Record<string, MetricDefinition>;

export interface RunsPage {
  runs: Run[];
  next_cursor: string | null;
}

export interface User {
  name: string;
  email: string | null;
  display_name: string | null;
  admin: boolean;
  kind: "user" | "service" | string;
  active: boolean;
}

export type TeamRole = "admin" | "member" | "viewer";

export interface WhoAmI {
  user: User;
  key: ApiKey | null;
  teams: { name: string; role: TeamRole }[];
  default_entity: string;
  auth: "keys" | "none";
}

export interface Session {
  user: string;
  csrf_token: string;
}

export interface Project {
  entity: string;
  name: string;
  visibility: "private" | "team" | "public";
  created_by: string | null;
  created_at: number;
  runs: number;
}

export interface ApiKey {
  prefix: string;
  name: string | null;
  read_only: boolean;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked?: boolean;
}

/** The answer to a key's creation: the only time the whole key is shown. */
export interface NewApiKey extends ApiKey {
  key: string;
  user: string;
}

export interface TeamMember {
  user: string;
  role: TeamRole;
  kind: string;
  active: boolean;
}

export interface Team {
  name: string;
  members: TeamMember[];
}
