import { useState, type FormEvent } from "react";
import { useCreateTeam, useRemoveMember, useSetMember, useTeam, useTeams, useWhoami } from "../../api/hooks";
import type { TeamRole } from "../../api/types";
import { ErrorMessage } from "../ErrorMessage";

const ROLES: TeamRole[] = ["admin", "member", "viewer"];

/** Your teams; a team's members, which its admins (and server admins) add, re-role and remove. */
export function Teams() {
  const teams = useTeams();
  const createTeam = useCreateTeam();
  const [newTeam, setNewTeam] = useState("");
  const [chosen, setChosen] = useState<string | null>(null);
  const current = chosen ?? teams.data?.[0]?.name ?? null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const made = await createTeam.mutateAsync(newTeam.trim());
    setNewTeam("");
    setChosen(made.name);
  };

  return (
    <section aria-labelledby="teams-title">
      <h2 id="teams-title">Teams</h2>
      <ErrorMessage error={teams.error} />
      {teams.data && teams.data.length === 0 && <p className="empty">You are in no team.</p>}
      {teams.data && teams.data.length > 0 && (
        <>
          <label htmlFor="team-choice">Team</label>{" "}
          <select id="team-choice" value={current ?? ""} onChange={(e) => setChosen(e.target.value)}>
            {teams.data.map((team) => (
              <option key={team.name} value={team.name}>{team.name} ({team.role})</option>
            ))}
          </select>
        </>
      )}
      {current && <Members team={current} />}
      <form className="inline" onSubmit={submit} aria-label="Create a team">
        <label>
          New team <input value={newTeam} required maxLength={64} onChange={(e) => setNewTeam(e.target.value)} />
        </label>
        <button type="submit" disabled={createTeam.isPending}>Create team</button>
      </form>
      <ErrorMessage error={createTeam.error} />
    </section>
  );
}

function Members({ team }: { team: string }) {
  const me = useWhoami().data;
  const details = useTeam(team);
  const setMember = useSetMember(team);
  const removeMember = useRemoveMember(team);
  const [user, setUser] = useState("");
  const [role, setRole] = useState<TeamRole>("member");
  const myRole = me?.teams.find((t) => t.name === team)?.role;
  const canAdmin = !!me && (me.user.admin || myRole === "admin");

  const add = async (event: FormEvent) => {
    event.preventDefault();
    await setMember.mutateAsync({ user: user.trim(), role });
    setUser("");
  };
  const remove = (name: string) => {
    if (window.confirm(`Remove ${name} from ${team}?`)) removeMember.mutate(name);
  };

  return (
    <div className="members">
      <ErrorMessage error={details.error ?? setMember.error ?? removeMember.error} />
      {details.data && (
        <table className="simple-table">
          <caption className="visually-hidden">Members of {team}</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Kind</th>
              {canAdmin && <th scope="col"><span className="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {details.data.members.map((member) => (
              <tr key={member.user}>
                <td>{member.user}{member.active ? "" : " (deactivated)"}</td>
                <td>
                  {canAdmin ? (
                    <select aria-label={`Role of ${member.user}`} value={member.role}
                      onChange={(e) => setMember.mutate({ user: member.user, role: e.target.value as TeamRole })}>
                      {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                  ) : member.role}
                </td>
                <td>{member.kind}</td>
                {canAdmin && (
                  <td>
                    <button type="button" className="danger" aria-label={`Remove ${member.user}`}
                      onClick={() => remove(member.user)}>Remove</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canAdmin && (
        <form className="inline" onSubmit={add} aria-label={`Add a member to ${team}`}>
          <label>
            User <input value={user} required maxLength={64} onChange={(e) => setUser(e.target.value)} />
          </label>
          <label htmlFor={`new-member-role-${team}`}>Role</label>
          <select id={`new-member-role-${team}`} value={role} onChange={(e) => setRole(e.target.value as TeamRole)}>
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
          <button type="submit" disabled={setMember.isPending}>Add member</button>
        </form>
      )}
    </div>
  );
}
