export default function Workspace() { return <p>Workspace</p>; }
