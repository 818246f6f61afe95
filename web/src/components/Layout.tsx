import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useLocation, useNavigate } from "react-router-dom";
import { logout } from "../api/auth";
import { useWhoami } from "../api/hooks";

/** The entity and project of a UI path (`/<entity>/<project>/...`), for the breadcrumbs. */
export function pathParts(pathname: string): { entity?: string; project?: string; rest: string[] } {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "settings" || parts[0] === "login") return { rest: parts };
  return { entity: parts[0], project: parts[1], rest: parts.slice(2) };
}

function Breadcrumbs() {
  const { entity, project, rest } = pathParts(useLocation().pathname);
  const e = entity ? encodeURIComponent(entity) : "";
  const p = project ? encodeURIComponent(project) : "";
  return (
    <nav aria-label="Breadcrumb" className="breadcrumbs">
      <ol>
        {entity && (
          <li>
            <Link to={`/${e}`}>{entity}</Link>
          </li>
        )}
        {project && (
          <li>
            <Link to={`/${e}/${p}`}>{project}</Link>
          </li>
        )}
        {rest[0] === "workspace" && <li aria-current="page">workspace</li>}
        {rest[0] === "runs" && rest[1] && <li aria-current="page">{rest[1]}</li>}
      </ol>
    </nav>
  );
}

function EntitySwitcher() {
  const me = useWhoami().data;
  const navigate = useNavigate();
  const current = pathParts(useLocation().pathname).entity ?? "";
  if (!me) return null;
  const entities = [me.default_entity, ...me.teams.map((t) => t.name).filter((n) => n !== me.default_entity)];
  if (current && !entities.includes(current)) entities.push(current);
  return (
    <span className="entity-switcher">
      <label htmlFor="entity-switcher" className="visually-hidden">Entity</label>
      <select id="entity-switcher" value={current}
        onChange={(event) => navigate(`/${encodeURIComponent(event.target.value)}`)}>
        {!current && <option value="">Entity…</option>}
        {entities.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </span>
  );
}

export function Layout() {
  const me = useWhoami().data;
  const client = useQueryClient();
  const navigate = useNavigate();
  const signOut = async () => {
    await logout();
    client.clear();
    navigate("/login", { replace: true });
  };
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          trackwell
        </Link>
        <EntitySwitcher />
        <Breadcrumbs />
        <nav aria-label="Account" className="account">
          <Link to="/settings">Settings</Link>
          {me && <span className="user">{me.user.name}</span>}
          {me?.auth !== "none" && (
            <button type="button" className="link-button" onClick={signOut}>
              Log out
            </button>
          )}
        </nav>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
