/**
 * Sequence sets (RFC 3501 §9):
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]
 *   seq-range    = seq-number ":" seq-number
 *   seq-number   = nz-number / "*"
 * `*` stands for the largest number in use, known only when the set is applied to a mailbox, so
 * it is kept symbolic here and resolved by `has`, `values` and `resolve` against an actual max.
 * The search result reference `$` (RFC 5182) is not supported and is rejected with a BAD.
 */

import { badSyntax, fail, limitExceeded, ok, printable, type ParseResult } from './errors.js';
import { MAX_SEQUENCE_SET_RANGES } from './limits.js';
import type { Token } from './tokens.js';

/** nz-number = digit-nz *DIGIT, at most 2^32 - 1 (RFC 3501 §9). */
const MAX_NZ_NUMBER = 0xffff_ffff;

export type SequenceNumber = number | '*';

/** One range as the client wrote it; `start` may be greater than `end` (`7:3` is `3:7`). */
export interface SequenceRange {
  readonly start: SequenceNumber;
  readonly end: SequenceNumber;
}

/** A parsed sequence set (message sequence numbers or UIDs, depending on the command). */
export class SequenceSet {
  constructor(readonly ranges: readonly SequenceRange[]) {}

  /** True when some range uses `*`. */
  get hasStar(): boolean {
    return this.ranges.some((r) => r.start === '*' || r.end === '*');
  }

  /**
   * The set as sorted, merged, inclusive `[low, high]` pairs with `*` = `max` and nothing above
   * `max`. With `max` = 0 (an empty mailbox) the result is empty.
   */
  resolve(max: number): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    for (const range of this.ranges) {
      const a = range.start === '*' ? max : range.start;
      const b = range.end === '*' ? max : range.end;
      const low = Math.min(a, b);
      const high = Math.min(Math.max(a, b), max);
      if (low <= high && high >= 1) pairs.push([low, high]);
    }
    pairs.sort((x, y) => x[0] - y[0]);
    const merged: Array<[number, number]> = [];
    for (const pair of pairs) {
      const last = merged[merged.length - 1];
      if (last !== undefined && pair[0] <= last[1] + 1) last[1] = Math.max(last[1], pair[1]);
      else merged.push([pair[0], pair[1]]);
    }
    return merged;
  }

  /** True when `n` is in the set, `*` standing for `max`. */
  has(n: number, max: number): boolean {
    for (const range of this.ranges) {
      const a = range.start === '*' ? max : range.start;
      const b = range.end === '*' ? max : range.end;
      if (n >= Math.min(a, b) && n <= Math.max(a, b) && n <= max) return true;
    }
    return false;
  }

  /** The members in ascending order, each once, none above `max`. */
  *values(max: number): Generator<number> {
    for (const [low, high] of this.resolve(max)) {
      for (let n = low; n <= high; n++) yield n;
    }
  }

  /** Wire form, as parsed (`1:*,5`). */
  toString(): string {
    return this.ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}:${r.end}`)).join(',');
  }
}

function parseSeqNumber(text: string): SequenceNumber | null {
  if (text === '*') return '*';
  if (!/^[1-9][0-9]*$/.test(text) || text.length > 10) return null;
  const n = Number(text);
  return n <= MAX_NZ_NUMBER ? n : null;
}

/** Parses the text of a sequence set. */
export function parseSequenceSet(text: string): ParseResult<SequenceSet> {
  if (text.includes('$')) return fail(badSyntax('Search result references ($) are not supported'));
  if (text.length === 0) return fail(badSyntax('Empty sequence set'));
  const parts = text.split(',');
  if (parts.length > MAX_SEQUENCE_SET_RANGES) {
    return fail(limitExceeded(`Sequence set with more than ${MAX_SEQUENCE_SET_RANGES} ranges`));
  }
  const ranges: SequenceRange[] = [];
  for (const part of parts) {
    const bounds = part.split(':');
    if (bounds.length > 2) return fail(badSyntax(`Invalid sequence range "${printable(part)}"`));
    const start = parseSeqNumber(bounds[0]!);
    const end = bounds.length === 2 ? parseSeqNumber(bounds[1]!) : start;
    if (start === null || end === null) return fail(badSyntax(`Invalid sequence set "${printable(text)}"`));
    ranges.push({ start, end });
  }
  return ok(new SequenceSet(ranges));
}

/** Parses a sequence set argument token (an atom or a number). */
export function sequenceSetFromToken(token: Token | undefined): ParseResult<SequenceSet> {
  if (token === undefined) return fail(badSyntax('Missing sequence set'));
  if (token.type === 'number') return parseSequenceSet(token.raw);
  if (token.type === 'atom' && token.section === undefined) return parseSequenceSet(token.value);
  return fail(badSyntax('Invalid sequence set'));
}

/** True when a token looks like a sequence set rather than a keyword (for SEARCH). */
export function looksLikeSequenceSet(token: Token): boolean {
  if (token.type === 'number') return true;
  return token.type === 'atom' && /^[0-9*$][0-9*$:,]*$/.test(token.value);
}
