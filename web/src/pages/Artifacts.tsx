import { useQuery } from "@tanstack/react-query";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { fileUrl, getVersion, listCollections, listVersions } from "../api/artifacts";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatTime } from "../components/format";

const bytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;

/** `/:entity/:project/artifacts`: the project's artifact collections. */
export function ArtifactCollections() {
  const { entity, project } = useParams() as { entity: string; project: string };
  const found = useQuery({ queryKey: ["artifacts", entity, project], queryFn: () => listCollections(entity, project) });
  const here = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;
  return (
    <section className="page">
      <h1>
        <Link to={here}>{project}</Link> · artifacts
      </h1>
      {found.isPending && <p className="loading">Loading…</p>}
      <ErrorMessage error={found.error} />
      {found.data && found.data.length === 0 && (
        <p className="empty">
          No artifacts here yet: <code>run.log_artifact(trackwell.Artifact(&quot;name&quot;, &quot;dataset&quot;))</code>.
        </p>
      )}
      {found.data && found.data.length > 0 && (
        <table className="simple-table">
          <caption className="visually-hidden">Artifacts of {project}</caption>
          <thead>
            <tr>
              <th scope="col">Artifact</th>
              <th scope="col">Type</th>
              <th scope="col">Versions</th>
              <th scope="col">Kind</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {found.data.map((c) => (
              <tr key={c.name}>
                <td>
                  <Link to={`${here}/artifacts/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                </td>
                <td>{c.type}</td>
                <td className="num">{c.version_count}</td>
                <td>{c.kind === "portfolio" ? "registry" : "logged"}</td>
                <td>{formatTime(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** `/:entity/:project/artifacts/:name[?version=vN]`: its versions (aliases, lineage) and one version's files. */
export function ArtifactVersions() {
  const { entity, project, name } = useParams() as { entity: string; project: string; name: string };
  const [params, setParams] = useSearchParams();
  const versions = useQuery({
    queryKey: ["artifacts", entity, project, name],
    queryFn: () => listVersions(entity, project, name),
  });
  const newest = versions.data?.versions.at(-1)?.version;
  const chosen = params.get("version") ?? newest;
  const version = useQuery({
    queryKey: ["artifacts", entity, project, name, chosen],
    queryFn: () => getVersion(entity, project, name, chosen!),
    enabled: chosen !== undefined,
  });
  const here = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;
  return (
    <section className="page">
      <h1>
        <Link to={`${here}/artifacts`}>artifacts</Link> · {name}
      </h1>
      <ErrorMessage error={versions.error ?? version.error} />
      {versions.data && (
        <table className="simple-table" aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Aliases</th>
              <th scope="col">Files</th>
              <th scope="col">Size</th>
              <th scope="col">Logged by</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {[...versions.data.versions].reverse().map((v) => (
              <tr key={v.version} aria-selected={v.version === chosen}>
                <td>
                  <button type="button" className="link-button" onClick={() => setParams({ version: v.version })}>
                    {v.version}
                  </button>
                </td>
                <td>{v.aliases.join(", ")}</td>
                <td className="num">{v.file_count}</td>
                <td className="num">{bytes(v.size)}</td>
                <td>
                  {v.logged_by && (
                    <Link
                      to={`/${encodeURIComponent(v.logged_by.entity)}/${encodeURIComponent(v.logged_by.project)}/runs/${encodeURIComponent(v.logged_by.run_id)}`}
                    >
                      {v.logged_by.run_id}
                    </Link>
                  )}
                </td>
                <td>{formatTime(v.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {version.data?.manifest && (
        <>
          <h2>
            Files of {name}:{version.data.version}
          </h2>
          <table className="simple-table" aria-label="Files">
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256 / reference</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(version.data.manifest).map(([path, entry]) => (
                <tr key={path}>
                  <td>
                    {entry.ref ? (
                      path
                    ) : (
                      <a href={fileUrl(entity, project, name, version.data.version, path)} download={path.split("/").pop()}>
                        {path}
                      </a>
                    )}
                  </td>
                  <td className="num">{bytes(entry.size)}</td>
                  <td>
                    <code>{entry.ref ?? entry.digest.slice(0, 16)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
