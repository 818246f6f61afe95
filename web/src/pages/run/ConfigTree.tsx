// A run's config as a collapsible tree: objects and lists open and close (<details>, so the
// keyboard works), leaves show their value.

import { formatValue } from "../../components/format";

function isBranch(value: unknown): value is Record<string, unknown> | unknown[] {
  return value !== null && typeof value === "object" && Object.keys(value).length > 0;
}

function Node({ name, value, depth }: { name: string; value: unknown; depth: number }) {
  if (!isBranch(value)) {
    return (
      <li className="tree-leaf">
        <span className="tree-key">{name}</span>
        <span className="tree-value">{Array.isArray(value) ? "[]" : value !== null && typeof value === "object"
          ? "{}" : formatValue(value) || String(value)}</span>
      </li>
    );
  }
  const entries = Object.entries(value);
  return (
    <li>
      <details open={depth < 1}>
        <summary>
          <span className="tree-key">{name}</span>
          <span className="tree-count">{Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}</span>
        </summary>
        <ul className="tree">
          {entries.map(([k, v]) => <Node key={k} name={k} value={v} depth={depth + 1} />)}
        </ul>
      </details>
    </li>
  );
}

export function ConfigTree({ config }: { config: Record<string, unknown> }) {
  const entries = Object.entries(config ?? {});
  if (!entries.length) return <p className="muted">No config.</p>;
  return (
    <ul className="tree tree-root">
      {entries.map(([k, v]) => <Node key={k} name={k} value={v} depth={0} />)}
    </ul>
  );
}
