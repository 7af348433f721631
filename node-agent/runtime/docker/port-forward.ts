// Port-forward as the kubelet's Docker integration did it: a TCP connection from the node to
// podIP:port (the pod bridge is reachable from the host), piped both ways until either side ends.
import net from 'node:net';
import type { Duplex } from 'node:stream';

export function forwardToPod(podIP: string, port: number, conn: Duplex): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sock = net.connect({ host: podIP, port });
    sock.once('connect', () => {
      conn.pipe(sock);
      sock.pipe(conn);
    });
    sock.once('error', (err) => {
      conn.destroy();
      reject(err);
    });
    sock.once('close', () => resolve());
    conn.once('close', () => sock.destroy());
  });
}
