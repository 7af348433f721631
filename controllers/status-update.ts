// Status writes for controllers whose cache may lag: a conflict re-reads the object and
// writes the computed status over the fresh copy once, as upstream's RetryOnConflict loops
// around updateStatefulSetStatus and storeDaemonSetStatus do. A vanished object is fine.
import { isConflict, isNotFound, type ApiClient } from './framework/client.js';

export async function putStatus<T extends object>(client: ApiClient, path: string, obj: T, status: unknown): Promise<void> {
  try {
    await client.update(`${path}/status`, { ...obj, status });
  } catch (e) {
    if (isNotFound(e)) return;
    if (!isConflict(e)) throw e;
    try {
      const fresh = await client.get<T>(path);
      await client.update(`${path}/status`, { ...fresh, status });
    } catch (again) {
      if (!isNotFound(again)) throw again;
    }
  }
}
