// Free TCP ports on 127.0.0.1 for the local stack: chosen by the kernel (bind to port 0), remembered in
// state.json, and re-checked before a restart so a port taken meanwhile is replaced instead of failing late.
import { createServer } from 'node:net';

const HOST = '127.0.0.1';

function listenOn(port: number): Promise<import('node:net').Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: HOST, port, exclusive: true }, () => resolve(srv));
  });
}

function close(srv: import('node:net').Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** `count` distinct free ports: all sockets are held open together so the kernel cannot hand out one twice. */
export async function pickFreePorts(count: number): Promise<number[]> {
  const servers: import('node:net').Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOn(0));
    return servers.map((s) => {
      const addr = s.address();
      if (addr === null || typeof addr === 'string') throw new Error('could not read a bound port');
      return addr.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** True when nothing listens on `port` (127.0.0.1) right now. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await close(await listenOn(port));
    return true;
  } catch {
    return false;
  }
}
