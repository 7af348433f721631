// Stops the cluster global-setup started (SIGTERM to `podium up`, which stops its children).
export default async function globalTeardown() {
  const up = globalThis.__podiumUp;
  if (!up) return;
  try {
    process.kill(up.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      process.kill(up.pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.kill(up.pid, 'SIGKILL');
}
