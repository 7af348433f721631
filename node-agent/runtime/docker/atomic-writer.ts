// Upstream's AtomicWriter: a volume directory whose whole content changes in one rename, so a
// running container never sees half an update of a configMap or secret. Layout:
//   ..2026_11_26_22_47_38.123456789/<files>   the current payload
//   ..data -> ..2026_…                        swapped atomically with rename(2)
//   <top-level name> -> ..data/<top-level name>  what the container sees
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface FileProjection {
  data: Buffer;
  mode: number;
}

const DATA_LINK = '..data';
const TMP_LINK = '..data_tmp';

/** A relative path without `..` elements or a leading `..` (upstream validatePath). */
export function validatePayloadPath(p: string): void {
  if (!p || path.isAbsolute(p) || p.split('/').some((part) => part === '..') || p.startsWith('..')) {
    throw new Error(`invalid volume file path ${JSON.stringify(p)}`);
  }
}

async function sameContent(dir: string, payload: Map<string, FileProjection>): Promise<boolean> {
  try {
    const current = await fs.readlink(path.join(dir, DATA_LINK));
    const base = path.join(dir, current);
    const seen = new Set<string>();
    const walk = async (rel: string): Promise<boolean> => {
      for (const ent of await fs.readdir(path.join(base, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${ent.name}` : ent.name;
        if (ent.isDirectory()) {
          if (!(await walk(r))) return false;
          continue;
        }
        const want = payload.get(r);
        if (!want) return false;
        const st = await fs.stat(path.join(base, r));
        if ((st.mode & 0o7777) !== want.mode) return false;
        if (!want.data.equals(await fs.readFile(path.join(base, r)))) return false;
        seen.add(r);
      }
      return true;
    };
    return (await walk('')) && seen.size === payload.size;
  } catch {
    return false;
  }
}

function timestampDirName(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${randomBytes(5).toString('hex')}`;
}

/** Writes `payload` (relative path → content) into `dir`; a no-op when nothing changed. */
export async function writeAtomically(dir: string, payload: Map<string, FileProjection>): Promise<void> {
  for (const p of payload.keys()) validatePayloadPath(p);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  if (await sameContent(dir, payload)) return;

  const tsName = timestampDirName();
  const tsDir = path.join(dir, tsName);
  await fs.mkdir(tsDir, { mode: 0o755 });
  for (const [rel, f] of payload) {
    const file = path.join(tsDir, rel);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    await fs.writeFile(file, f.data);
    await fs.chmod(file, f.mode); // writeFile's mode is masked by the umask
  }
  // Upstream gives the timestamped dir mode 0755 as well, so non-root containers can traverse it.
  await fs.chmod(tsDir, 0o755);

  let old: string | undefined;
  try {
    old = await fs.readlink(path.join(dir, DATA_LINK));
  } catch {
    old = undefined;
  }
  await fs.rm(path.join(dir, TMP_LINK), { force: true });
  await fs.symlink(tsName, path.join(dir, TMP_LINK));
  await fs.rename(path.join(dir, TMP_LINK), path.join(dir, DATA_LINK));

  // User-visible links for each top-level name; stale ones (keys removed) go away.
  const top = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const name of top) {
    const link = path.join(dir, name);
    try {
      await fs.lstat(link);
    } catch {
      await fs.symlink(path.join(DATA_LINK, name), link);
    }
  }
  for (const ent of await fs.readdir(dir, { withFileTypes: true })) {
    if (ent.name.startsWith('..') || top.has(ent.name)) continue;
    if (ent.isSymbolicLink()) await fs.rm(path.join(dir, ent.name), { force: true });
  }
  if (old && old !== tsName) await fs.rm(path.join(dir, old), { recursive: true, force: true });
}
