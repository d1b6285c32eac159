/**
 * A random --port-offset for a test server. Every role port (143 … 8474) plus the offset stays
 * below 32768, where Linux starts handing out ephemeral ports: an offset that reaches into that
 * range can collide with a client socket another test has open (seen in CI as EADDRINUSE).
 * Test files run in parallel, so an offset whose ports another test's server already holds is
 * skipped: a child process tries to listen on each of them first (seen in CI: the Instance Host
 * port of one test was another test's port).
 */
import { execFileSync } from 'node:child_process';

const ROLE_PORTS = [143, 443, 993, 8470, 8471, 8472, 8473, 8474];

const PROBE = `
const net = require('node:net');
const ports = JSON.parse(process.argv[1]);
let left = ports.length, free = true;
for (const p of ports) {
  const s = net.createServer();
  s.once('error', () => { free = false; if (--left === 0) process.exit(1); });
  s.listen(p, '0.0.0.0', () => s.close(() => { if (--left === 0) process.exit(free ? 0 : 1); }));
}`;

function allFree(offset: number): boolean {
  try {
    execFileSync(process.execPath, ['-e', PROBE, JSON.stringify(ROLE_PORTS.map((p) => p + offset))], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function randomPortOffset(): number {
  for (let attempt = 0; ; attempt++) {
    const offset = 11_000 + Math.floor(Math.random() * 13_000);
    if (attempt >= 20 || allFree(offset)) return offset;
  }
}
