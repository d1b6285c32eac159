/** Listening helpers shared by the roles: bind or fail with a message naming the port and its use. */
import type net from 'node:net';

export function listenOn(server: net.Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new Error(error.code === 'EADDRINUSE' ? `port ${port} (${what}) is already in use; is Coffer already running, or pick another --port-offset` : `cannot listen on ${host}:${port} (${what}): ${error.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Closes a server and cuts the connections still open (shutdown must not wait for idle peers). */
export function closeServer(server: net.Server & { closeAll?: () => Promise<void>; closeAllConnections?: () => void }): Promise<void> {
  if (typeof server.closeAll === 'function') return server.closeAll();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
