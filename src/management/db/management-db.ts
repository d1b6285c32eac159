/**
 * The management database on disk: loaded and validated once at start, changed only through
 * `update()`, which serialises writers, works on a copy, validates the result and replaces the
 * file atomically before the new state becomes visible. A file that does not parse or validate is
 * never overwritten: start-up stops with a message naming the broken field, and the file stays
 * for the operator to repair or restore (Backup-and-Restore.md).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ManagementError } from '../errors.js';
import { removeStaleTemporaries, writeFileAtomic } from './atomic-file.js';
import { emptyDatabase, parseManagementDatabase, type ManagementDatabase } from './schema.js';

export const MANAGEMENT_DB_RELATIVE_PATH = join('config', 'management-db.json');

export type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export class ManagementDb {
  #current: ManagementDatabase;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    database: ManagementDatabase,
  ) {
    this.#current = database;
  }

  /**
   * Opens `<dataDir>/config/management-db.json`, creating an empty one if there is none.
   * Throws ManagementError DATABASE_DAMAGED (and leaves the file alone) if it is unreadable.
   */
  static async open(dataDir: string): Promise<ManagementDb> {
    return ManagementDb.openFile(join(dataDir, MANAGEMENT_DB_RELATIVE_PATH));
  }

  static async openFile(path: string): Promise<ManagementDb> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await removeStaleTemporaries(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const database = emptyDatabase();
      await writeFileAtomic(path, serialize(database));
      return new ManagementDb(path, database);
    }
    let value: unknown;
    try {
      value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      throw damaged(path, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = parseManagementDatabase(value);
    if (!parsed.ok) throw damaged(path, parsed.message);
    return new ManagementDb(path, parsed.database);
  }

  /** The state as of the last completed update. Do not mutate (it is shared). */
  read(): DeepReadonly<ManagementDatabase> {
    return this.#current;
  }

  /**
   * Runs `change` on a copy, after every earlier update finished; if it returns without throwing,
   * the copy is validated, written atomically and becomes the current state. Its return value is
   * passed through. A throw (e.g. a ManagementError for a name clash) leaves file and state as
   * they were.
   */
  update<T>(change: (draft: ManagementDatabase) => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const draft = structuredClone(this.#current);
      const result = await change(draft);
      const parsed = parseManagementDatabase(draft);
      if (!parsed.ok) throw new Error(`management database change would break the schema: ${parsed.message}`);
      try {
        await writeFileAtomic(this.path, serialize(parsed.database));
      } catch (error) {
        throw new ManagementError('DATABASE_WRITE_FAILED', 'The management database could not be saved; nothing was changed.', (error as NodeJS.ErrnoException).code ?? null);
      }
      this.#current = parsed.database;
      return result;
    });
    this.#queue = run.catch(() => {});
    return run;
  }
}

function serialize(database: ManagementDatabase): string {
  return `${JSON.stringify(database, null, 2)}\n`;
}

function damaged(path: string, reason: string): ManagementError {
  return new ManagementError(
    'DATABASE_DAMAGED',
    `The management database ${path} is damaged: ${reason}. Coffer did not start and left the file as it is; repair it by hand or restore it from a backup.`,
  );
}
