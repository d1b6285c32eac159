import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandParser } from '../src/cas/imap/protocol/parser.js';
import { describeCommandForLog } from '../src/cas/imap/protocol/log-redaction.js';

const PROTOCOL_DIR = new URL('../src/cas/imap/protocol/', import.meta.url).pathname;

describe('IMAP protocol layer boundaries', () => {
  it('imports only its own files and node builtins', () => {
    const offending: string[] = [];
    for (const file of readdirSync(PROTOCOL_DIR).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(PROTOCOL_DIR, file), 'utf8');
      for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+['"]([^'"]+)['"]/g)) {
        const specifier = match[1]!;
        const isLocal = specifier.startsWith('./') && !specifier.slice(2).includes('/') && specifier.endsWith('.js');
        const isBuiltin = specifier.startsWith('node:') || builtinModules.includes(specifier);
        if (!isLocal && !isBuiltin) offending.push(`${file}: ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('keeps every file of the layer under 400 lines', () => {
    const long = readdirSync(PROTOCOL_DIR)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [f, readFileSync(join(PROTOCOL_DIR, f), 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });
});

describe('command descriptions for the log', () => {
  function command(text: string) {
    const parser = new CommandParser();
    parser.push(Buffer.from(text));
    const event = parser.next();
    if (event.kind !== 'command') throw new Error('not a command');
    return event;
  }

  it('hides the LOGIN password and AUTHENTICATE responses', () => {
    expect(describeCommandForLog(command('a1 LOGIN alice "s3cret"\r\n'))).toBe('a1 LOGIN alice ***');
    expect(describeCommandForLog(command('a2 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n'))).toBe('a2 AUTHENTICATE PLAIN ***');
  });

  it('shows literals only as their size', () => {
    expect(describeCommandForLog(command('a3 APPEND INBOX (\\Seen) {5+}\r\nHello\r\n'))).toBe('a3 APPEND INBOX (\\Seen) {5 bytes, discarded}');
    expect(describeCommandForLog(command('a4 SEARCH TEXT {6+}\r\nsecret\r\n'))).toBe('a4 SEARCH TEXT {6 bytes}');
  });
});
