/**
 * How long and from which seed a fuzzer runs. `npm test` runs each one briefly from a fixed seed;
 * `npm run fuzz` sets FUZZ_SECONDS (default 300 there) and FUZZ_SEED=random, and each fuzzer prints
 * its seed and counts: `FUZZ_SEED=<seed> npm run fuzz` replays a failure.
 */
export interface FuzzRun { seed: number; ms: number; long: boolean; timeoutMs: number }

export function fuzzRun(name: string, defaultSeed: number, defaultMs: number): FuzzRun {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 0);
  const long = Number.isFinite(seconds) && seconds > 0;
  const given = process.env.FUZZ_SEED;
  const seed = given === undefined || given === '' ? defaultSeed : given === 'random' ? Math.floor(Math.random() * 2 ** 32) : Number(given) >>> 0;
  const ms = long ? seconds * 1000 : defaultMs;
  if (long || given !== undefined) console.log(`${name}: seed ${seed}, ${ms / 1000} s`);
  return { seed, ms, long, timeoutMs: ms + 60_000 };
}

/** The seeded generator the sample data uses: a failure replays from its seed. */
export { seededRandom as prng } from '../../src/common/random.js';
