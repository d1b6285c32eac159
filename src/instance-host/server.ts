/**
 * The Instance Host endpoint (8472, mutual TLS pinned by thumbprint). A caller's first frame says
 * where it goes: `{instance: "acme"}` pipes the connection to that instance process (the host only
 * relays bytes, so streams keep their backpressure end to end); `{control: true}` opens the host's
 * own control interface (define, start, stop, freeze … instances). A caller on this machine that
 * adds `direct: true` is answered `{direct: {port, token}}` instead and connects to the instance
 * process itself (InstanceClient.connect does both).
 */
import net from 'node:net';
import type tls from 'node:tls';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import type { RoleCertificate } from '../common/certs.js';
import { createPinnedServer } from '../common/mtls.js';
import { FrameType, encodeJson } from '../common/rpc/frames.js';
import { RpcPeer, RpcError } from '../common/rpc/peer.js';
import type { InstanceSupervisor, InstanceSpec } from './supervisor.js';

/** The hello frame is small JSON; anything bigger is not a Coffer peer. */
const MAX_HELLO_BYTES = 4096;

export interface HostServerOptions {
  supervisor: InstanceSupervisor;
  certificate: () => RoleCertificate;
  pinned: () => ReadonlySet<string>;
  log: Logger;
  /** Where relative instance base directories live (`<data>/instances`). */
  instancesDir: string;
}

export type InstanceHostServer = tls.Server & { closeAll(): Promise<void> };

export function createInstanceHostServer(opts: HostServerOptions): InstanceHostServer {
  const controlPeers = new Set<RpcPeer>();
  const sockets = new Set<tls.TLSSocket>();
  opts.supervisor.on('status', (s) => { for (const p of controlPeers) p.emitEvent('instanceStatus', s); });
  const server = createPinnedServer(opts.certificate, opts.pinned, (socket, thumbprint) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 5) return;
      const len = buf.readUInt32BE(0);
      if (len > MAX_HELLO_BYTES || buf[4] !== FrameType.Hello) { socket.destroy(); return; }
      if (buf.length < 4 + len) return;
      socket.off('data', onData);
      socket.pause();
      let hello: { instance?: string; control?: boolean; direct?: boolean };
      try { hello = JSON.parse(buf.subarray(5, 4 + len).toString('utf8')); } catch { socket.destroy(); return; }
      const rest = buf.subarray(4 + len);
      if (hello.control) { openControl(socket, rest, thumbprint); return; }
      relay(socket, String(hello.instance ?? ''), rest, hello.direct === true);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }) as InstanceHostServer;
  /** Stops listening and drops every open relay and control connection (shutdown must not wait for idle clients). */
  server.closeAll = () => new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); });
  return server;

  function relay(socket: tls.TLSSocket, instanceId: string, rest: Buffer, directWanted: boolean): void {
    const st = opts.supervisor.get(instanceId);
    if (!st || !st.port || !st.token) {
      // Answer in RPC terms so the caller can tell "not running" from a network fault.
      const why = !st ? `instance ${instanceId} is not known on this Instance Host` : `instance ${instanceId} is not running (${st.status})`;
      answerAndClose(socket, encodeJson(FrameType.Error, { id: 0, error: { code: 'INSTANCE_UNAVAILABLE', message: why } }));
      return;
    }
    if (directWanted && sameMachine(socket)) {
      // A role on this machine (pinned, like every caller) talks to the instance process itself,
      // on the loopback port this host uses: one process hop and one TLS session less for every
      // byte. What is given is what this host's own link to the instance already uses.
      answerAndClose(socket, encodeJson(FrameType.Hello, { direct: { port: st.port, token: st.token } }));
      return;
    }
    const upstream = net.connect(st.port, '127.0.0.1');
    upstream.setNoDelay(true);
    upstream.on('connect', () => {
      upstream.write(encodeJson(FrameType.Hello, { token: st.token }));
      if (rest.length) upstream.write(rest);
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.resume();
    });
    const close = () => { socket.destroy(); upstream.destroy(); };
    upstream.on('error', close);
    upstream.on('close', close);
    socket.on('close', close);
  }

  /**
   * Sends a last frame and closes once the caller has read it: the socket was paused after the
   * hello, and a paused socket never sees the caller's end (it would stay open for good).
   */
  function answerAndClose(socket: tls.TLSSocket, frame: Buffer): void {
    socket.end(frame);
    socket.resume();
  }

  /** True when the caller runs on this machine (and so can reach the instance's loopback port). */
  function sameMachine(socket: tls.TLSSocket): boolean {
    const remote = socket.remoteAddress ?? '';
    return remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.') || (remote !== '' && remote === socket.localAddress);
  }

  function openControl(socket: tls.TLSSocket, rest: Buffer, thumbprint: string): void {
    const sup = opts.supervisor;
    const peer = new RpcPeer(socket, {
      list: () => sup.list(),
      define: (p: InstanceSpec) => sup.define({ ...p, baseDir: path.resolve(opts.instancesDir, p.baseDir || p.instanceId) }),
      remove: (p: { instanceId: string }) => sup.remove(p.instanceId),
      start: (p: { instanceId: string; safeMode?: boolean }) => sup.start(p.instanceId, { safeMode: p.safeMode }),
      stop: (p: { instanceId: string }) => sup.stop(p.instanceId),
      restart: (p: { instanceId: string }) => sup.restart(p.instanceId),
      freeze: (p: { instanceId: string }) => sup.freeze(p.instanceId),
      thaw: (p: { instanceId: string }) => sup.thaw(p.instanceId),
      setSafeMode: (p: { instanceId: string; on: boolean }) => sup.setSafeMode(p.instanceId, !!p.on),
      createDirectory: (p: { path: string }) => { if (!path.isAbsolute(p.path)) throw new RpcError('INVALID_ARGUMENT', 'path must be absolute'); mkdirSync(p.path, { recursive: true }); return null; },
      getDirectories: (p: { path: string }) => {
        if (!path.isAbsolute(p.path)) throw new RpcError('INVALID_ARGUMENT', 'path must be absolute');
        return readdirSync(p.path).filter((n) => { try { return statSync(path.join(p.path, n)).isDirectory(); } catch { return false; } });
      },
    });
    controlPeers.add(peer);
    peer.on('close', () => controlPeers.delete(peer));
    opts.log.debug({ thumbprint }, 'control connection opened');
    if (rest.length) socket.unshift(rest);
    socket.resume();
  }
}
