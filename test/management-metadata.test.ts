import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ALL_FUNCTIONS, createFunctionRegistry } from '../src/management/api/metadata.js';
import { validateCall, parseFormFields } from '../src/management/api/validate.js';
import { parseInstanceFilter, selectInstances } from '../src/management/instance-filter.js';
import { describeInstanceIdProblem, describeNameConflict, isValidInstanceId } from '../src/management/instance-ids.js';

/** The contract: every `## Name` section and its argument table in the Function Reference. */
function referenceFunctions(): { name: string; args: { name: string; type: string; nullable: boolean }[] }[] {
  const text = readFileSync(new URL('../../shared/spec/Management-API-Function-Reference.md', import.meta.url), 'utf8');
  return text
    .split(/^## /m)
    .slice(1)
    .map((section) => {
      const lines = section.split('\n');
      const start = lines.findIndex((line) => line.trim() === '### Arguments');
      const rows = start < 0 ? [] : lines.slice(start + 3).filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('|')));
      return {
        name: (lines[0] ?? '').trim(),
        args: rows.map((row) => {
          const [name = '', type = ''] = row.split('|').slice(1, 3).map((cell) => cell.trim().replace(/`/g, ''));
          return { name, type: type.replace(/ \(optional\)/, '').replace('boolean true/false', 'bool'), nullable: type.includes('(optional)') };
        }),
      };
    });
}

describe('function declarations', () => {
  const reference = (() => {
    try {
      return referenceFunctions();
    } catch {
      return null;
    }
  })();

  it('declares all 106 functions of the reference exactly once', () => {
    expect(ALL_FUNCTIONS).toHaveLength(106);
    expect(new Set(ALL_FUNCTIONS.map((f) => f.name)).size).toBe(106);
  });

  it.skipIf(reference === null)('follows the argument names, types and optionality of the reference', () => {
    const registry = createFunctionRegistry();
    for (const expected of reference ?? []) {
      const declared = registry.find(expected.name);
      expect(declared, expected.name).toBeDefined();
      const args = declared!.args.map((a) => ({ name: a.name, type: a.type, nullable: a.nullable }));
      // SetJobSchedule: Coffer adds an optional instanceID the reference forgot (see declare.ts).
      const withoutAddition = expected.name === 'SetJobSchedule' ? args.slice(1) : args;
      expect(withoutAddition, expected.name).toEqual(expected.args);
    }
  });

  it('gives every instance function an instanceID and marks the long-running ones', () => {
    for (const declaration of ALL_FUNCTIONS) {
      expect(declaration.scope === 'instance', declaration.name).toBe(declaration.args.some((a) => a.name === 'instanceID'));
    }
    const longRunning = ALL_FUNCTIONS.filter((f) => f.isLongRunning).map((f) => f.name).sort();
    expect(longRunning).toEqual(
      [
        'CompactStore', 'MaintainFileSystemDatabases', 'MergeStore', 'RebuildSelectedStoreIndexes', 'RecoverStore', 'RecreateRecoveryRecords',
        'RefreshAllStoreStatistics', 'RepairStoreDatabase', 'RunProfile', 'RunTemporaryProfile', 'SyncUsersWithDirectoryServices', 'UpgradeStore',
        'VerifyStore', 'VerifyStores',
      ].sort(),
    );
  });

  it('fails SetJobSchedule without instanceID with a message naming it', () => {
    const declaration = createFunctionRegistry().find('SetJobSchedule')!;
    const result = validateCall(declaration, parseFormFields('id=1&timeZoneId=%24Local'));
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/'instanceID' of SetJobSchedule is required/) });
  });

  it('finds functions case-insensitively, exact spelling first', () => {
    expect(createFunctionRegistry().find('getinstances')?.name).toBe('GetInstances');
  });

  it('validates the CreateInstance config shape and the ID rules inside it', () => {
    const declaration = createFunctionRegistry().find('CreateInstance')!;
    const check = (config: unknown) => validateCall(declaration, new Map([['config', [JSON.stringify(config)]]]));
    expect(check({ instanceID: 'acme', instanceHost: 'host1', startMode: 'automatic', debugLogEnabled: true }).ok).toBe(true);
    expect(check({ instanceID: 'Acme', instanceHost: 'host1' })).toMatchObject({ message: expect.stringMatching(/config\.instanceID: must start with a lower-case letter/) });
    expect(check({ instanceID: 'acme' })).toMatchObject({ message: expect.stringMatching(/config\.instanceHost: is required/) });
    expect(check({ instanceID: 'acme', instanceHost: 'h', debugLogEnabled: 'yes' })).toMatchObject({ message: expect.stringMatching(/config\.debugLogEnabled: expected true or false, got a string/) });
    expect(check({ instanceID: 'acme', instanceHost: 'h', startmode: 'manual' })).toMatchObject({ message: expect.stringMatching(/config\.startmode: unknown field/) });
    expect(check([1, 2])).toMatchObject({ message: expect.stringMatching(/config: expected a JSON object, got an array/) });
  });
});

describe('instance IDs and aliases', () => {
  it.each([
    ['acme', null],
    ['a-1', null],
    ['ab', 'must be at least 3 characters long'],
    ['a'.repeat(33), 'must be at most 32 characters long'],
    ['1acme', 'must start with a lower-case letter (a-z)'],
    ['Acme', 'must start with a lower-case letter (a-z)'],
    ['ac_me', 'may contain only a-z, 0-9 and a dash (-)'],
    ['acmé', 'may contain only a-z, 0-9 and a dash (-)'],
  ])('judges %s', (id, problem) => {
    expect(describeInstanceIdProblem(id)).toBe(problem);
    expect(isValidInstanceId(id)).toBe(problem === null);
  });

  it('keeps IDs and aliases unique across both, letting an instance reuse its own names', () => {
    const existing = [{ id: 'acme', alias: 'acme-corp' }, { id: 'globex', alias: null }];
    expect(describeNameConflict('acme-corp', existing, null)).toBe("is already the alias of instance 'acme'");
    expect(describeNameConflict('globex', existing, 'acme')).toBe("is already the ID of instance 'globex'");
    expect(describeNameConflict('acme-corp', existing, 'acme')).toBeNull();
    expect(describeNameConflict('initech', existing, null)).toBeNull();
  });
});

describe('instance filter', () => {
  const instances = [
    { id: 'acme', host: 'host1', isRunning: true },
    { id: 'globex', host: 'HOST2', isRunning: false },
    { id: 'initech', host: 'host2', isRunning: true },
  ];
  const select = (text: string) => {
    const parsed = parseInstanceFilter(text);
    if (!parsed.ok) throw new Error(parsed.message);
    return selectInstances(parsed.value, instances).map((i) => i.id);
  };

  it.each([
    ['*', ['acme', 'globex', 'initech']],
    ['acme  initech', ['acme', 'initech']],
    ['*host2', ['globex', 'initech']],
    ['*host1 *host2', ['acme', 'globex', 'initech']],
    ['* .running', ['acme', 'initech']],
    ['* .stopped', ['globex']],
    ['*host2 .running', ['initech']],
    ['nosuch', []],
  ])('selects %s', (text, ids) => {
    expect(select(text)).toEqual(ids);
  });

  it.each([
    ['', /is empty/],
    ['   ', /is empty/],
    ['.running', /only a status suffix/],
    ['* .running .stopped', /cannot combine/],
    ['* .paused', /unknown status suffix '.paused'/],
    ['Acme', /not an instance ID/],
  ])('refuses %j', (text, message) => {
    const parsed = parseInstanceFilter(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});
