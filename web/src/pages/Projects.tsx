import { Link, useParams } from "react-router-dom";
import { useProjects, useWhoami } from "../api/hooks";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatTime } from "../components/format";

/** `/:entity`: the entity's projects this user may read, and the other entities to switch to. */
export default function Projects() {
  const entity = useParams().entity!;
  const projects = useProjects(entity);
  const me = useWhoami().data;
  const others = me
    ? [me.default_entity, ...me.teams.map((t) => t.name)].filter((name) => name !== entity)
    : [];
  return (
    <section className="page">
      <h1>{entity}</h1>
      {projects.isPending && <p className="loading">Loading…</p>}
      <ErrorMessage error={projects.error} />
      {projects.data && projects.data.length === 0 && (
        <p className="empty">
          No projects you can read here. A project appears with the first run logged to it:{" "}
          <code>trackwell.init(entity=&quot;{entity}&quot;, project=&quot;…&quot;)</code>.
        </p>
      )}
      {projects.data && projects.data.length > 0 && (
        <table className="simple-table">
          <caption className="visually-hidden">Projects of {entity}</caption>
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Runs</th>
              <th scope="col">Visibility</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {projects.data.map((project) => (
              <tr key={project.name}>
                <td>
                  <Link to={`/${encodeURIComponent(entity)}/${encodeURIComponent(project.name)}`}>{project.name}</Link>
                </td>
                <td className="num">{project.runs}</td>
                <td>{project.visibility}</td>
                <td>{formatTime(project.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {others.length > 0 && (
        <nav aria-label="Other entities" className="other-entities">
          <h2>Your other entities</h2>
          <ul>
            {others.map((name) => (
              <li key={name}>
                <Link to={`/${encodeURIComponent(name)}`}>{name}</Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </section>
  );
}
