import { useWhoami } from "../api/hooks";
import { ApiKeys } from "../components/settings/ApiKeys";
import { Teams } from "../components/settings/Teams";

/** `/settings`: your API keys, your teams and their members. */
export default function Settings() {
  const me = useWhoami().data;
  return (
    <div className="page settings">
      <h1>Settings{me ? `: ${me.user.name}` : ""}</h1>
      <ApiKeys />
      <Teams />
    </div>
  );
}
