// A run's files and the media its history references (docs/files.md).

import { useQuery } from "@tanstack/react-query";
import { API_PREFIX, api, seg } from "../../api/client";

export interface RunFile {
  name: string;
  size: number;
  digest: string;
  updated_at: number;
  uploaded: boolean;
}

export interface ImageRef {
  _type: "image-file";
  path: string;
  width: number;
  height: number;
  caption?: string;
}

export interface TableRef {
  _type: "table-file";
  path: string;
  ncols: number;
  nrows: number;
}

export interface HistogramValue {
  _type: "histogram";
  values: number[];
  bins: number[];
}

export interface FileMediaRef {
  _type: "audio-file" | "video-file" | "html-file" | "object3D-file";
  path: string;
  caption?: string;
}

export type Media = ImageRef | TableRef | HistogramValue | FileMediaRef;

const KINDS = new Set(["image-file", "table-file", "histogram", "audio-file", "video-file", "html-file", "object3D-file"]);

const runPath = (entity: string, project: string, runId: string) =>
  `/runs/${seg(entity)}/${seg(project)}/${seg(runId)}`;

/** The URL a file downloads from (a plain GET: the session cookie authorizes it). */
export const fileUrl = (entity: string, project: string, runId: string, name: string) =>
  `${API_PREFIX}${runPath(entity, project, runId)}/files/${name.split("/").map(seg).join("/")}`;

export function useRunFiles(entity: string, project: string, runId: string, live: boolean) {
  return useQuery({
    queryKey: ["run-files", entity, project, runId],
    queryFn: () => api<{ files: RunFile[] }>(`${runPath(entity, project, runId)}/files`),
    refetchInterval: live ? 5_000 : false,
  });
}

export function isMedia(value: unknown): value is Media {
  const kind = (value as { _type?: unknown } | null)?._type;
  return typeof kind === "string" && KINDS.has(kind);
}

/** Every (step, key, media) of the run's history, in step order: images lists flattened. */
export function useRunMedia(entity: string, project: string, runId: string) {
  return useQuery({
    queryKey: ["run-media", entity, project, runId],
    queryFn: async () => {
      const found: { step: number; key: string; media: Media }[] = [];
      let minStep: number | null = 0;
      while (minStep !== null) {
        const page: { rows: Record<string, unknown>[]; next_step: number | null } =
          await api(`${runPath(entity, project, runId)}/history/scan?min_step=${minStep}&page_size=1000`);
        for (const row of page.rows) {
          for (const [key, value] of Object.entries(row)) {
            const items = Array.isArray(value) ? value : [value];
            for (const item of items) if (isMedia(item)) found.push({ step: row._step as number, key, media: item });
          }
        }
        minStep = page.next_step;
      }
      return found;
    },
  });
}

export function useTable(url: string) {
  return useQuery({
    queryKey: ["table-file", url],
    queryFn: async () => {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
      return (await response.json()) as { columns: string[]; data: unknown[][] };
    },
  });
}
