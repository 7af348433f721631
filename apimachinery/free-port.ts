// A TCP port free on the loopback interface right now: the kernel picks one for a listener that
// closes at once. Another process may take it before the caller binds; callers that start a
// child on it accept that small race, as every "free port" helper does.
import { createServer, type AddressInfo } from 'node:net';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
