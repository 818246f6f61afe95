// `/:entity/:project/sweeps/:sweepId`: a sweep's state and progress, its best run, its runs (with
// their parameters, metric value and why a run was stopped), and pause / resume / stop / cancel.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { controlSweep, getSweep, listSweepRuns, type SweepAction } from "../api/sweeps";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatValue } from "../components/format";

const LIVE_MS = 3000;
const IN_FLIGHT = new Set(["pending", "running", "preempting", "preempted"]);
const ACTIONS: Record<string, SweepAction[]> = { running: ["pause", "stop", "cancel"], paused: ["resume", "stop", "cancel"] };

export default function Sweep() {
  const { entity = "", project = "", sweepId = "" } = useParams();
  const client = useQueryClient();
  const key = ["sweep", entity, project, sweepId];
  const sweep = useQuery({ queryKey: key, queryFn: () => getSweep(entity, project, sweepId), refetchInterval: LIVE_MS });
  const runs = useQuery({ queryKey: [...key, "runs"], queryFn: () => listSweepRuns(entity, project, sweepId),
                          refetchInterval: LIVE_MS });
  const control = useMutation({
    mutationFn: (action: SweepAction) => controlSweep(entity, project, sweepId, action),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
  });

  if (sweep.isPending) return <p className="loading">Loading sweep…</p>;
  if (sweep.isError) return <ErrorMessage error={sweep.error} />;
  const s = sweep.data;
  const base = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;
  const handed = (runs.data ?? []).filter((r) => r.status !== "prior");
  const ended = handed.filter((r) => !IN_FLIGHT.has(r.state)).length;
  const expected = s.expected_run_count;
  const paramNames = [...new Set(handed.flatMap((r) => Object.keys(r.params)))].sort();
  const metric = s.config.metric?.name;

  return (
    <section className="page sweep-page">
      <div className="page-title">
        <h1>Sweep {s.name ?? s.id}</h1>
        <span className={`badge badge-sweep-${s.state}`}>{s.state}</span>
        {(ACTIONS[s.state] ?? []).map((action) => (
          <button key={action} type="button" disabled={control.isPending} onClick={() => control.mutate(action)}>
            {action[0].toUpperCase() + action.slice(1)}
          </button>
        ))}
      </div>
      <ErrorMessage error={control.error} />
      <p className="muted">
        {s.method} search{metric ? `, ${s.config.metric?.goal ?? "minimize"} ${metric}` : ""}
        {s.reason ? ` — ${s.reason}` : ""}. {s.active_agents ?? 0} active agent{s.active_agents === 1 ? "" : "s"}.
        Run an agent: <code>trackwell agent {s.entity}/{s.project}/{s.id}</code>
      </p>
      <p>
        <label htmlFor="sweep-progress">{ended} of {expected ?? handed.length} runs ended</label>{" "}
        <progress id="sweep-progress" max={expected ?? Math.max(handed.length, 1)} value={ended} />
      </p>
      {s.best_run && (
        <p>
          Best run: <Link to={`${base}/runs/${encodeURIComponent(s.best_run.id)}`}>{s.best_run.id}</Link>{" "}
          ({metric} = {formatValue(s.best_run.value)})
        </p>
      )}
      <ErrorMessage error={runs.error} />
      {runs.data?.length === 0 && <p className="empty">No runs yet: start an agent.</p>}
      {!!runs.data?.length && (
        <table className="simple-table">
          <caption className="visually-hidden">Runs of sweep {s.id}</caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">State</th>
              {paramNames.map((name) => <th key={name} scope="col">{name}</th>)}
              {metric && <th scope="col">{metric}</th>}
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.id}>
                <td>{r.state === "pending" ? r.id : <Link to={`${base}/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link>}</td>
                <td><span className={`badge badge-${r.state}`}>{r.state}</span></td>
                {paramNames.map((name) => <td key={name}>{formatValue(r.params[name])}</td>)}
                {metric && <td className="num">{r.value === null ? "" : formatValue(r.value)}</td>}
                <td>
                  {[r.status === "prior" ? "prior run" : "", r.resumes ? `resumed ${r.resumes}×` : "", r.stop_reason ?? ""]
                    .filter(Boolean).join("; ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p><Link to={`${base}/sweeps`}>All sweeps of {project}</Link></p>
    </section>
  );
}
