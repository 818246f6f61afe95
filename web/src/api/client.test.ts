import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, setCsrfToken, setOnUnauthenticated } from "./client";

type Call = { url: string; init: RequestInit };

function answer(status: number, body: unknown): { calls: Call[] } {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body === undefined ? "" : JSON.stringify(body), { status });
  });
  return { calls };
}

describe("api", () => {
  beforeEach(() => setCsrfToken(null));
  afterEach(() => vi.unstubAllGlobals());

  it("GETs under /api/v1 with the session cookie and no CSRF header", async () => {
    setCsrfToken("tok");
    const { calls } = answer(200, { ok: 1 });
    expect(await api<{ ok: number }>("/auth/whoami")).toEqual({ ok: 1 });
    expect(calls[0].url).toBe("/api/v1/auth/whoami");
    expect(calls[0].init.credentials).toBe("same-origin");
    const headers = new Headers(calls[0].init.headers);
    expect(headers.get("X-CSRF-Token")).toBeNull();
    expect(calls[0].init.body).toBeUndefined();
  });

  it("sends JSON and the CSRF token on a state change", async () => {
    setCsrfToken("tok-123");
    const { calls } = answer(200, { id: "k" });
    await api("/keys", { json: { name: "laptop" } });
    const headers = new Headers(calls[0].init.headers);
    expect(calls[0].init.method).toBe("POST");
    expect(headers.get("Content-Type")).toBe("application/json");
    expect(headers.get("X-CSRF-Token")).toBe("tok-123");
    expect(calls[0].init.body).toBe('{"name":"laptop"}');
  });

  it("raises the server's detail as an ApiError", async () => {
    answer(422, { detail: "send either api_key, or username and password" });
    const error = await api("/auth/login", { json: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).message).toBe("send either api_key, or username and password");
  });

  it("calls the 401 handler unless told not to", async () => {
    const handler = vi.fn();
    setOnUnauthenticated(handler);
    answer(401, { detail: "no key" });
    await expect(api("/auth/whoami")).rejects.toBeInstanceOf(ApiError);
    expect(handler).toHaveBeenCalledTimes(1);
    await expect(api("/auth/session", { allow401: true })).rejects.toBeInstanceOf(ApiError);
    expect(handler).toHaveBeenCalledTimes(1);
  });
});
