// The floor a Docker node agent is measured against: plain `docker run -d IMAGE sleep 3600`,
// timed from spawning the CLI until `docker inspect` says the container is running, one at a
// time. Every container carries a label naming the run, so removal touches only this run's.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 << 20 });
  return stdout.trim();
}

export const FLOOR_LABEL = 'io.podium.bench.pod-startup';

export interface FloorResult {
  /** Spawn of `docker run -d` to the first inspect reporting State.Running true, ms. */
  runningMs: Float64Array;
  /** Spawn of `docker run -d` to it returning the container id, ms. */
  runReturnedMs: Float64Array;
}

/** One `docker run -d`, timed from `t0` to its id and to the first inspect saying it runs. */
async function runUntilRunning(image: string, name: string, runId: string, ids: string[], t0: number): Promise<{ returnedMs: number; runningMs: number }> {
  const id = await docker('run', '-d', '--label', `${FLOOR_LABEL}=${runId}`, '--name', name, image, 'sleep', '3600');
  ids.push(id);
  const returnedMs = performance.now() - t0;
  for (let tries = 0; ; tries++) {
    if ((await docker('inspect', '-f', '{{.State.Running}}', id)) === 'true') break;
    if (tries > 500) throw new Error(`docker container ${id} not running after ${tries} inspections`);
  }
  return { returnedMs, runningMs: performance.now() - t0 };
}

export async function measureDockerRunFloor(image: string, count: number, runId: string, ids: string[]): Promise<FloorResult> {
  const runningMs = new Float64Array(count);
  const runReturnedMs = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const r = await runUntilRunning(image, `podium-bench-floor-${runId}-${i}`, runId, ids, performance.now());
    runReturnedMs[i] = r.returnedMs;
    runningMs[i] = r.runningMs;
  }
  return { runningMs, runReturnedMs };
}

/**
 * The same `docker run -d` for `count` containers started all at once: what the daemon itself
 * manages when a burst of pods arrives, the fair floor for pods created all at once.
 */
export async function measureDockerRunBurstFloor(image: string, count: number, runId: string, ids: string[]): Promise<FloorResult> {
  const runningMs = new Float64Array(count);
  const runReturnedMs = new Float64Array(count);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const r = await runUntilRunning(image, `podium-bench-burst-${runId}-${i}`, runId, ids, t0);
    runReturnedMs[i] = r.returnedMs;
    runningMs[i] = r.runningMs;
  }));
  return { runningMs, runReturnedMs };
}

/** Removes the floor containers of this run (by the ids it created, and by its label for any whose id was lost). */
export async function removeFloorContainers(runId: string, ids: string[]): Promise<void> {
  const labelled = (await docker('ps', '-aq', '--no-trunc', '--filter', `label=${FLOOR_LABEL}=${runId}`).catch(() => '')).split('\n').filter(Boolean);
  const all = [...new Set([...ids, ...labelled])];
  if (all.length) await docker('rm', '-f', ...all);
}

/** Ids of every container (pods' sandboxes included) labelled with the pod namespace `ns`. */
export async function podContainers(ns: string): Promise<string[]> {
  return (await docker('ps', '-aq', '--no-trunc', '--filter', `label=io.kubernetes.pod.namespace=${ns}`)).split('\n').filter(Boolean);
}
