import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { restoreSession, whoami } from "../api/auth";

/** Whether this browser may call the API: a session (whose CSRF token the client then sends), or a
 * server started with `--auth none` (every request acts as its admin). */
async function signedIn(): Promise<boolean> {
  if (await restoreSession()) return true;
  try {
    return (await whoami(true)).auth === "none";
  } catch {
    return false;
  }
}

export function loginPath(next: string): string {
  return next && next !== "/" ? `/login?next=${encodeURIComponent(next)}` : "/login";
}

export function SessionGate({ children }: { children: ReactNode }) {
  const location = useLocation();
  const session = useQuery({ queryKey: ["session"], queryFn: signedIn, staleTime: Infinity, retry: false });
  if (session.isPending) return <p className="loading">Loading…</p>;
  if (!session.data) return <Navigate to={loginPath(location.pathname + location.search)} replace />;
  return <>{children}</>;
}
