/**
 * A caller on the Instance Host's machine is sent to the instance process itself (loopback port
 * and token); a caller that does not ask, as an older one, is relayed as before; the instance's
 * port admits only the token.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPinned } from '../src/common/mtls.js';
import { FrameDecoder, FrameType, encodeJson, joined } from '../src/common/rpc/frames.js';
import { RpcPeer, sendHello } from '../src/common/rpc/peer.js';
import { RPC } from '../src/instance/api.js';
import { startEngine, type Engine } from './helpers/engine.js';

/** The first frame the host answers to a hello. */
async function firstAnswer(engine: Engine, hello: object): Promise<{ type: FrameType; body: unknown; closed: Promise<unknown> }> {
  const socket = await connectPinned(engine.address.host, engine.address.port, engine.identity, engine.address.thumbprint);
  const closed = once(socket, 'close');
  const decoder = new FrameDecoder();
  sendHello(socket, hello);
  for await (const chunk of socket) {
    const [frame] = decoder.push(chunk as Buffer);
    if (frame) { socket.destroy(); return { type: frame.type, body: JSON.parse(joined(frame.parts).toString()), closed }; }
  }
  throw new Error('closed without an answer');
}

/** The host's open connections, once closes in flight have landed. */
async function settledConnections(engine: Engine): Promise<number> {
  const count = () => new Promise<number>((r) => engine.server.getConnections((_, n) => r(n)));
  let last = await count();
  for (let k = 0; k < 50; k++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = await count();
    if (now === last) return now;
    last = now;
  }
  return last;
}

describe('Instance Host: direct connections on the same machine', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine();
    await engine.startInstance('acme');
  });
  afterAll(async () => { await engine.close(); });

  it('offers the instance port to a local caller that asks, and InstanceClient uses it', async () => {
    const answer = await firstAnswer(engine, { instance: 'acme', direct: true });
    const st = engine.supervisor.get('acme')!;
    expect(answer.type).toBe(FrameType.Hello);
    expect(answer.body).toEqual({ direct: { port: st.port, token: st.token } });
    // The host keeps no connection for a direct client: its calls work with the host's socket gone.
    const before = await settledConnections(engine);
    const client = await engine.connect('acme');
    expect((await client.status()).instanceId).toBe('acme');
    expect(await settledConnections(engine)).toBe(before);
  });

  it('relays a caller that does not ask (an older client), with the same answers', async () => {
    const before = await settledConnections(engine);
    const socket = await connectPinned(engine.address.host, engine.address.port, engine.identity, engine.address.thumbprint);
    const peer = new RpcPeer(socket);
    sendHello(socket, { instance: 'acme' });
    const status = await peer.call<{ instanceId: string }>(RPC.status, {}, 15_000);
    expect(status.instanceId).toBe('acme');
    expect(await settledConnections(engine)).toBe(before + 1);
    peer.close();
  });

  it('answers an unknown or stopped instance with INSTANCE_UNAVAILABLE, never a port', async () => {
    const answer = await firstAnswer(engine, { instance: 'nope', direct: true });
    expect(answer.type).toBe(FrameType.Error);
    expect(answer.body).toMatchObject({ id: 0, error: { code: 'INSTANCE_UNAVAILABLE' } });
    await expect(engine.connect('nope')).rejects.toThrow(/not known/);
  });

  it('falls back to the relay when the offered port cannot be reached (a proxy in front of the host)', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const real = engine.supervisor.get.bind(engine.supervisor);
    let calls = 0;
    // The first answer (the direct offer) names a port nobody listens on; the relay after it is real.
    engine.supervisor.get = ((id: string) => { const st = real(id); return st && calls++ === 0 ? { ...st, port: deadPort } : st; }) as typeof engine.supervisor.get;
    try {
      const before = await settledConnections(engine);
      const client = await engine.connect('acme');
      expect((await client.status()).instanceId).toBe('acme');
      expect(calls).toBe(2);
      expect(await settledConnections(engine)).toBe(before + 1);
    } finally {
      engine.supervisor.get = real;
    }
  });

  it('closes the instance port to a wrong token', async () => {
    const st = engine.supervisor.get('acme')!;
    const socket = net.connect(st.port!, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(encodeJson(FrameType.Hello, { token: 'x'.repeat(st.token!.length) }));
    socket.write(encodeJson(FrameType.Request, { id: 1, method: RPC.status, params: {} }));
    const got: Buffer[] = [];
    socket.on('data', (b: Buffer) => got.push(b));
    socket.on('error', () => {}); // reset: the instance closed with our request unread
    await once(socket, 'close');
    expect(Buffer.concat(got).length).toBe(0);
  });
});
