import { api, setCsrfToken } from "./client";
import type { Session, WhoAmI } from "./types";

export type Credentials = { api_key: string } | { username: string; password: string };

export async function login(credentials: Credentials): Promise<Session> {
  const session = await api<Session>("/auth/login", { json: credentials, allow401: true });
  setCsrfToken(session.csrf_token);
  return session;
}

export async function logout(): Promise<void> {
  try {
    await api("/auth/logout", { method: "POST", allow401: true });
  } finally {
    setCsrfToken(null);
  }
}

/** The browser session (its CSRF token), or null when there is none. */
export async function restoreSession(): Promise<Session | null> {
  try {
    const session = await api<Session>("/auth/session", { allow401: true });
    setCsrfToken(session.csrf_token);
    return session;
  } catch {
    setCsrfToken(null);
    return null;
  }
}

export const whoami = (allow401 = false) => api<WhoAmI>("/auth/whoami", { allow401 });
