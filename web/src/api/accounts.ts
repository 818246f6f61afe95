import { api, seg } from "./client";
import type { ApiKey, NewApiKey, Project, Team, TeamRole } from "./types";

export const listProjects = (entity: string) =>
  api<{ projects: Project[] }>(`/projects/${seg(entity)}`).then((r) => r.projects);

export const getProject = (entity: string, project: string) =>
  api<Project>(`/projects/${seg(entity)}/${seg(project)}`);

export const listKeys = () => api<{ keys: ApiKey[] }>("/keys").then((r) => r.keys);

export interface NewKeyRequest {
  name?: string;
  read_only?: boolean;
  expires_in_days?: number;
}

export const createKey = (request: NewKeyRequest) => api<NewApiKey>("/keys", { json: request });

export const revokeKey = (prefix: string) => api(`/keys/${seg(prefix)}`, { method: "DELETE" });

export const listTeams = () =>
  api<{ teams: { name: string; role: TeamRole }[] }>("/teams").then((r) => r.teams);

export const createTeam = (name: string) => api<Team>("/teams", { json: { name } });

export const getTeam = (team: string) => api<Team>(`/teams/${seg(team)}`);

export const setMember = (team: string, user: string, role: TeamRole) =>
  api<Team>(`/teams/${seg(team)}/members/${seg(user)}`, { method: "PUT", json: { role } });

export const removeMember = (team: string, user: string) =>
  api<Team>(`/teams/${seg(team)}/members/${seg(user)}`, { method: "DELETE" });
