/**
 * Mutual TLS between roles, pinned by certificate thumbprint rather than a CA (DESIGN.md §1):
 * both sides present self-signed certificates, and each accepts only the thumbprints it was given.
 */
import tls from 'node:tls';
import type { RoleCertificate } from './certs.js';

export type PinnedPeers = () => ReadonlySet<string>;

function peerThumbprint(socket: tls.TLSSocket): string | null {
  const cert = socket.getPeerX509Certificate();
  return cert ? cert.fingerprint.replace(/:/g, '').toUpperCase() : null;
}

/** A TLS server that drops any client whose certificate thumbprint is not pinned. */
export function createPinnedServer(own: () => RoleCertificate, pinned: PinnedPeers, onConnection: (socket: tls.TLSSocket, thumbprint: string) => void): tls.Server {
  const contextFor = () => tls.createSecureContext({ key: own().keyPem, cert: own().certPem, minVersion: 'TLSv1.2' });
  let ctx = contextFor();
  const server = tls.createServer({ SNICallback: (_name, cb) => cb(null, ctx), key: own().keyPem, cert: own().certPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (socket) => {
    const tp = peerThumbprint(socket);
    if (!tp || !pinned().has(tp)) {
      socket.destroy();
      return;
    }
    // RPC frames are small and answered at once: Nagle's delay would add ~40 ms to every streamed reply.
    socket.setNoDelay(true);
    onConnection(socket, tp);
  });
  (server as tls.Server & { reloadCertificate?: () => void }).reloadCertificate = () => { ctx = contextFor(); server.setSecureContext({ key: own().keyPem, cert: own().certPem }); };
  return server;
}

/** Connects with our certificate and checks the server's thumbprint against the pin. */
export function connectPinned(host: string, port: number, own: RoleCertificate, serverThumbprint: string, timeoutMs = 10_000): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host, port, key: own.keyPem, cert: own.certPem, rejectUnauthorized: false, minVersion: 'TLSv1.2',
      servername: host.match(/^[\d.:]+$/) ? undefined : host,
    });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`TLS connection to ${host}:${port} timed out`)); }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      const tp = peerThumbprint(socket);
      if (tp !== serverThumbprint.toUpperCase()) {
        socket.destroy();
        reject(new Error(`certificate of ${host}:${port} has thumbprint ${tp ?? 'none'}, expected ${serverThumbprint}`));
        return;
      }
      resolve(socket);
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
