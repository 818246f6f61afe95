// `/:entity/:project/sweeps`: the project's sweeps, newest first.

import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { listSweeps } from "../api/sweeps";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatTime } from "../components/format";

export default function Sweeps() {
  const { entity = "", project = "" } = useParams();
  const sweeps = useQuery({ queryKey: ["sweeps", entity, project], queryFn: () => listSweeps(entity, project),
                            refetchInterval: 10_000 });
  const base = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;
  return (
    <section className="page">
      <h1>Sweeps of {project}</h1>
      {sweeps.isPending && <p className="loading">Loading…</p>}
      <ErrorMessage error={sweeps.error} />
      {sweeps.data?.length === 0 && (
        <p className="empty">
          No sweeps in this project yet: <code>trackwell sweep sweep.yaml --project {project}</code> creates one.
        </p>
      )}
      {!!sweeps.data?.length && (
        <table className="simple-table">
          <caption className="visually-hidden">Sweeps of {project}</caption>
          <thead>
            <tr>
              <th scope="col">Sweep</th>
              <th scope="col">Method</th>
              <th scope="col">State</th>
              <th scope="col">Expected runs</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {sweeps.data.map((sweep) => (
              <tr key={sweep.id}>
                <td>
                  <Link to={`${base}/sweeps/${encodeURIComponent(sweep.id)}`}>{sweep.name ?? sweep.id}</Link>
                </td>
                <td>{sweep.method}</td>
                <td><span className={`badge badge-sweep-${sweep.state}`}>{sweep.state}</span></td>
                <td className="num">{sweep.expected_run_count ?? "unbounded"}</td>
                <td>{formatTime(sweep.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p><Link to={base}>Back to the runs</Link></p>
    </section>
  );
}
