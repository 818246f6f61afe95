import type { RunState } from "../api/types";

/** A run's state as a coloured badge (the colour is decoration: the text says it). */
export function StateBadge({ state }: { state: RunState }) {
  return <span className={`badge badge-${state}`}>{state}</span>;
}
