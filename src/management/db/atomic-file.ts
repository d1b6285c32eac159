/**
 * Crash-safe replacement of a small file: write a temporary file beside it, fsync it, rename it
 * over the target (atomic within one file system), then fsync the directory so the rename itself
 * survives a power cut. A reader sees the old file or the new one, never half of either.
 */
import { open, rename, unlink, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const TEMP_MARKER = '.tmp-';

export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR); the rename is still done.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle.close();
  }
}

/** Removes temporary files a crash left beside `path`. Returns their names. */
export async function removeStaleTemporaries(path: string): Promise<string[]> {
  const prefix = `${basename(path)}${TEMP_MARKER}`;
  const names = (await readdir(dirname(path))).filter((name) => name.startsWith(prefix));
  await Promise.all(names.map((name) => unlink(join(dirname(path), name)).catch(() => {})));
  return names;
}
