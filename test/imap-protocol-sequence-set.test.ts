import { describe, expect, it } from 'vitest';
import { parseSequenceSet, type SequenceSet } from '../src/cas/imap/protocol/sequence-set.js';
import { MAX_SEQUENCE_SET_RANGES } from '../src/cas/imap/protocol/limits.js';

function set(text: string): SequenceSet {
  const result = parseSequenceSet(text);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('sequence sets', () => {
  it('parses ranges, single numbers and * as written', () => {
    expect(set('1:*,5,7:3').ranges).toEqual([
      { start: 1, end: '*' },
      { start: 5, end: 5 },
      { start: 7, end: 3 },
    ]);
    expect(set('1:*,5,7:3').toString()).toBe('1:*,5,7:3');
  });

  it('resolves * against the actual maximum and merges ranges', () => {
    expect(set('1:*').resolve(4)).toEqual([[1, 4]]);
    expect(set('7:3,1,2,9').resolve(20)).toEqual([[1, 7], [9, 9]]);
    expect(set('*').resolve(0)).toEqual([]);
    expect(set('10:*').resolve(4)).toEqual([[4, 4]]);
  });

  it('tests membership with * standing for the maximum', () => {
    const s = set('2:4,*');
    expect([1, 2, 3, 4, 5, 9, 10].map((n) => s.has(n, 9))).toEqual([false, true, true, true, false, true, false]);
  });

  it('iterates members in order, once each, never above the maximum', () => {
    expect([...set('5,1:3,2,100:*').values(6)]).toEqual([1, 2, 3, 5, 6]);
    expect([...set('1:4294967295').values(3)]).toEqual([1, 2, 3]);
  });

  it.each(['', '0', '1:0', '-1', '1::2', 'a', '1,,2', '4294967296', '1:2:3', '1 2'])('rejects %j with a BAD', (text) => {
    const result = parseSequenceSet(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.status).toBe('BAD');
  });

  it('rejects the search result reference $ cleanly', () => {
    expect(parseSequenceSet('$')).toMatchObject({ ok: false, error: { status: 'BAD', message: 'Search result references ($) are not supported' } });
  });

  it('accepts the maximum number of ranges and rejects one more', () => {
    const ranges = Array.from({ length: MAX_SEQUENCE_SET_RANGES }, (_, k) => `${k + 1}`);
    expect(parseSequenceSet(ranges.join(',')).ok).toBe(true);
    expect(parseSequenceSet([...ranges, '1'].join(','))).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
  });
});
