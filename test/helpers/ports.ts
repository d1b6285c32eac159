/**
 * A random --port-offset for a test server. Every role port (143 … 8474) plus the offset stays
 * below 32768, where Linux starts handing out ephemeral ports: an offset that reaches into that
 * range can collide with a client socket another test has open (seen in CI as EADDRINUSE).
 */
export function randomPortOffset(): number {
  return 11_000 + Math.floor(Math.random() * 13_000);
}
