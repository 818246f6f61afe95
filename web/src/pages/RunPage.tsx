export default function RunPage() { return <p>Run</p>; }
