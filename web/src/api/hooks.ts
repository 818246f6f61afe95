// TanStack Query hooks over the typed API functions: one cache key per resource.

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as accounts from "./accounts";
import { whoami } from "./auth";
import { getRun, listRuns } from "./runs";
import type { TeamRole } from "./types";

export const keys = {
  whoami: ["whoami"] as const,
  projects: (entity: string) => ["projects", entity] as const,
  project: (entity: string, project: string) => ["project", entity, project] as const,
  runs: (entity: string, project: string) => ["runs", entity, project] as const,
  run: (entity: string, project: string, runId: string) => ["run", entity, project, runId] as const,
  apiKeys: ["api-keys"] as const,
  teams: ["teams"] as const,
  team: (team: string) => ["team", team] as const,
};

export const useWhoami = () => useQuery({ queryKey: keys.whoami, queryFn: () => whoami(), staleTime: 60_000 });

export const useProjects = (entity: string) =>
  useQuery({ queryKey: keys.projects(entity), queryFn: () => accounts.listProjects(entity) });

export const useRun = (entity: string, project: string, runId: string, refetchInterval?: number | false) =>
  useQuery({
    queryKey: keys.run(entity, project, runId),
    queryFn: () => getRun(entity, project, runId),
    refetchInterval,
  });

export const RUNS_PAGE_SIZE = 200;

/** The runs table's pages: server-side filter and order, keyset cursor paging. */
export function useRunsPages(entity: string, project: string, filters: unknown, order: string) {
  return useInfiniteQuery({
    queryKey: [...keys.runs(entity, project), "pages", JSON.stringify(filters ?? null), order],
    queryFn: ({ pageParam, signal }) =>
      listRuns(entity, project, { filters, order, limit: RUNS_PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: 30_000,
    // new runs show up while only the first page is loaded (refetching hundreds of pages would not pay)
    refetchInterval: (query) => ((query.state.data?.pages.length ?? 0) === 1 ? 10_000 : false),
  });
}

/** The latest state of the given runs (those shown as running), refetched every few seconds while
 * there are any: the table merges them over the loaded pages. */
export function useLiveRuns(entity: string, project: string, ids: string[]) {
  const watched = ids.slice(0, 1000); // the filter language's list limit
  return useQuery({
    queryKey: [...keys.runs(entity, project), "live", watched.join(",")],
    queryFn: ({ signal }) => listRuns(entity, project, { filters: { id: { $in: watched } }, limit: 1000 }, signal),
    enabled: watched.length > 0,
    refetchInterval: 5_000,
    select: (page) => page.runs,
  });
}

export const useProject = (entity: string, project: string) =>
  useQuery({ queryKey: keys.project(entity, project), queryFn: () => accounts.getProject(entity, project) });

export const useApiKeys = () => useQuery({ queryKey: keys.apiKeys, queryFn: accounts.listKeys });

export function useCreateKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: accounts.createKey,
    onSuccess: () => client.invalidateQueries({ queryKey: keys.apiKeys }),
  });
}

export function useRevokeKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: accounts.revokeKey,
    onSuccess: () => client.invalidateQueries({ queryKey: keys.apiKeys }),
  });
}

export const useTeams = () => useQuery({ queryKey: keys.teams, queryFn: accounts.listTeams });

export const useTeam = (team: string | null) =>
  useQuery({ queryKey: keys.team(team ?? ""), queryFn: () => accounts.getTeam(team!), enabled: !!team });

export function useCreateTeam() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: accounts.createTeam,
    onSuccess: () => {
      client.invalidateQueries({ queryKey: keys.teams });
      client.invalidateQueries({ queryKey: keys.whoami });
    },
  });
}

export function useSetMember(team: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ user, role }: { user: string; role: TeamRole }) => accounts.setMember(team, user, role),
    onSuccess: (updated) => client.setQueryData(keys.team(team), updated),
  });
}

export function useRemoveMember(team: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (user: string) => accounts.removeMember(team, user),
    onSuccess: (updated) => client.setQueryData(keys.team(team), updated),
  });
}
