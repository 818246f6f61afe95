// Artifacts (docs/artifacts.md): collections, versions with aliases, a version's manifest.

import { API_PREFIX, api, seg } from "./client";

export interface ArtifactCollection {
  name: string;
  type: string;
  kind: "source" | "portfolio";
  description: string | null;
  version_count: number;
  created_at: number;
}

export interface ArtifactVersion {
  name: string;
  type: string;
  version: string;
  digest: string;
  description: string | null;
  metadata: Record<string, unknown>;
  size: number;
  file_count: number;
  aliases: string[];
  created_at: number;
  source: { entity: string; project: string; name: string; version: string };
  logged_by: { entity: string; project: string; run_id: string } | null;
  manifest?: Record<string, { digest: string; size: number; ref?: string }>;
}

const base = (entity: string, project: string) => `/artifacts/${seg(entity)}/${seg(project)}`;

export const listCollections = (entity: string, project: string) =>
  api<{ collections: ArtifactCollection[] }>(base(entity, project)).then((r) => r.collections);

export const listVersions = (entity: string, project: string, name: string) =>
  api<{ collection: ArtifactCollection; versions: ArtifactVersion[]; next_after: number | null }>(
    `${base(entity, project)}/${seg(name)}?limit=1000`,
  );

export const getVersion = (entity: string, project: string, name: string, version: string) =>
  api<ArtifactVersion>(`${base(entity, project)}/${seg(name)}/${seg(version)}`);

/** Where the browser downloads an entry (the session cookie authenticates a GET). */
export const fileUrl = (entity: string, project: string, name: string, version: string, path: string) =>
  `${API_PREFIX}${base(entity, project)}/${seg(name)}/${seg(version)}/file?path=${encodeURIComponent(path)}`;
