import { useState, type FormEvent } from "react";
import { useApiKeys, useCreateKey, useRevokeKey } from "../../api/hooks";
import type { NewApiKey } from "../../api/types";
import { ErrorMessage } from "../ErrorMessage";
import { formatTime } from "../format";

/** Your API keys: list, create (the key is shown once), revoke. */
export function ApiKeys() {
  const keys = useApiKeys();
  const create = useCreateKey();
  const revoke = useRevokeKey();
  const [name, setName] = useState("");
  const [readOnly, setReadOnly] = useState(false);
  const [days, setDays] = useState("");
  const [created, setCreated] = useState<NewApiKey | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const made = await create.mutateAsync({
      name: name.trim() || undefined,
      read_only: readOnly,
      expires_in_days: days ? Number(days) : undefined,
    });
    setCreated(made);
    setName("");
    setDays("");
    setReadOnly(false);
  };
  const revokeKey = (prefix: string, label: string) => {
    if (window.confirm(`Revoke the key ${label}? Scripts using it stop working at once.`)) revoke.mutate(prefix);
  };

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form className="inline" onSubmit={submit} aria-label="Create an API key">
        <label>
          Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="laptop, ci…" maxLength={128} />
        </label>
        <label>
          <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} /> read-only
        </label>
        <label>
          Expires in (days){" "}
          <input type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)}
            placeholder="never" style={{ width: 80 }} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>Create key</button>
      </form>
      <ErrorMessage error={create.error} />
      {created && (
        <div className="new-key" role="status">
          <p>
            New key <strong>{created.name || created.prefix}</strong>: copy it now, it is not shown again.
          </p>
          <code aria-label="New API key">{created.key}</code>{" "}
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.key)}>Copy</button>{" "}
          <button type="button" onClick={() => setCreated(null)}>Done</button>
        </div>
      )}
      <ErrorMessage error={keys.error ?? revoke.error} />
      {keys.data && (
        <table className="simple-table">
          <caption className="visually-hidden">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Prefix</th>
              <th scope="col">Name</th>
              <th scope="col">Scope</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.prefix}>
                <td><code>{key.prefix}</code></td>
                <td>{key.name}</td>
                <td>{key.read_only ? "read-only" : "read-write"}</td>
                <td>{formatTime(key.created_at)}</td>
                <td>{key.last_used_at ? formatTime(key.last_used_at) : "never"}</td>
                <td>{key.revoked ? "revoked" : key.expires_at ? formatTime(key.expires_at) : "never"}</td>
                <td>
                  {!key.revoked && (
                    <button type="button" className="danger" aria-label={`Revoke key ${key.prefix}`}
                      onClick={() => revokeKey(key.prefix, key.name || key.prefix)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
