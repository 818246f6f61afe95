import { Navigate } from "react-router-dom";
import { useWhoami } from "../api/hooks";
import { ErrorMessage } from "../components/ErrorMessage";

/** `/`: the signed-in user's default entity. */
export default function Home() {
  const me = useWhoami();
  if (me.isPending) return <p className="loading">Loading…</p>;
  if (me.isError) return <ErrorMessage error={me.error} />;
  return <Navigate to={`/${encodeURIComponent(me.data.default_entity)}`} replace />;
}
