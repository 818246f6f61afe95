import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { login, type Credentials } from "../api/auth";
import { ErrorMessage } from "../components/ErrorMessage";

/** Where to go after signing in: only a path on this site (never `//evil.example`). */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

type Mode = "password" | "key";

export default function Login() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [mode, setMode] = useState<Mode>("password");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const credentials: Credentials =
      mode === "key" ? { api_key: apiKey.trim() } : { username: username.trim(), password };
    setBusy(true);
    setError(null);
    try {
      await login(credentials);
      client.clear(); // nothing cached from another user
      navigate(safeNext(params.get("next")), { replace: true });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>Sign in to trackwell</h1>
      <div role="tablist" aria-label="Sign-in method" className="tabs">
        <button type="button" role="tab" aria-selected={mode === "password"} onClick={() => setMode("password")}>
          Username and password
        </button>
        <button type="button" role="tab" aria-selected={mode === "key"} onClick={() => setMode("key")}>
          API key
        </button>
      </div>
      <form onSubmit={submit} aria-label="Sign in">
        {mode === "password" ? (
          <>
            <label>
              Username
              <input autoComplete="username" value={username} required autoFocus
                onChange={(e) => setUsername(e.target.value)} />
            </label>
            <label>
              Password
              <input type="password" autoComplete="current-password" value={password} required
                onChange={(e) => setPassword(e.target.value)} />
            </label>
          </>
        ) : (
          <label>
            API key
            <input type="password" autoComplete="off" placeholder="tw_…" value={apiKey} required autoFocus
              onChange={(e) => setApiKey(e.target.value)} />
          </label>
        )}
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="hint">
        The server&apos;s first admin has a key but no password: it is in the credentials file of the user who started
        the server (<code>trackwell whoami</code> shows who; <code>trackwell keys create</code> makes another).
      </p>
    </main>
  );
}
