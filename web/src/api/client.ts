// The fetch wrapper every API call goes through: same-origin cookies, the CSRF token on state
// changes, JSON in and out, and a 401 sends the browser to the login page.

export const API_PREFIX = "/api/v1";

const CSRF_KEY = "trackwell.csrf";

export function setCsrfToken(token: string | null): void {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

export function csrfToken(): string | null {
  return sessionStorage.getItem(CSRF_KEY);
}

/** An API answer that was not 2xx: the status and the server's message (its `detail`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Where a 401 sends the browser; replaced in tests. */
export let onUnauthenticated = (): void => {
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== "/login") {
    window.location.assign(`/login?next=${encodeURIComponent(here)}`);
  }
};

export function setOnUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface ApiInit extends Omit<RequestInit, "body"> {
  /** A JSON body (serialized here). */
  json?: unknown;
  /** Do not redirect on 401 (the login page's own session probe). */
  allow401?: boolean;
}

export async function api<T>(path: string, init: ApiInit = {}): Promise<T> {
  const { json, allow401, headers: extra, ...rest } = init;
  const method = (rest.method ?? (json === undefined ? "GET" : "POST")).toUpperCase();
  const headers = new Headers(extra);
  headers.set("Accept", "application/json");
  if (!SAFE_METHODS.has(method)) {
    headers.set("Content-Type", "application/json");
    const token = csrfToken();
    if (token) headers.set("X-CSRF-Token", token);
  }
  const response = await fetch(API_PREFIX + path, {
    ...rest,
    method,
    headers,
    credentials: "same-origin",
    body: json === undefined ? (SAFE_METHODS.has(method) ? undefined : "{}") : JSON.stringify(json),
  });
  const text = await response.text();
  const body: unknown = text ? parseJson(text) : null;
  if (!response.ok) {
    if (response.status === 401 && !allow401) onUnauthenticated();
    throw new ApiError(response.status, messageOf(body, response), body);
  }
  return body as T;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function messageOf(body: unknown, response: Response): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    return JSON.stringify(detail);
  }
  if (typeof body === "string" && body) return body;
  return `${response.status} ${response.statusText}`;
}

/** A path segment, escaped. */
export const seg = (part: string): string => encodeURIComponent(part);
