// Minimal JSON-over-HTTP calls and a watch reader for tests against a real API server.
export interface Reply<T = Record<string, any>> { status: number; body: T; headers: Headers }

export async function call<T = Record<string, any>>(base: string, method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<Reply<T>> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': contentType, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* plain text */ }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface WatchEvent { type: string; object: Record<string, any> }

/** Opens a watch and collects its events until stopped (or the server ends it). */
export function watch(base: string, path: string): { events: WatchEvent[]; ended: Promise<void>; stop(): void; waitFor(n: number, ms?: number): Promise<WatchEvent[]> } {
  const events: WatchEvent[] = [];
  const ctrl = new AbortController();
  const ended = (async () => {
    try {
      const res = await fetch(base + path, { signal: ctrl.signal });
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  return {
    events, ended,
    stop: () => ctrl.abort(),
    async waitFor(n: number, ms = 10_000) {
      const end = Date.now() + ms;
      while (events.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      return events;
    },
  };
}
