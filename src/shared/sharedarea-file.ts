/**
 * File backing for `--sharedarea file=PATH[,size=BYTES]` (uwsgi-ts emulation of uWSGI's
 * MAP_SHARED mapping, which threads cannot share): the area's initial content is read from
 * the file at startup and written back by syncAreaFile() (graceful shutdown, reload, or an
 * explicit sync). Between syncs the file is not updated.
 */
import { closeSync, openSync, readSync, fstatSync, writeSync, promises as fsp } from 'node:fs';
import { UwsgiError, echo } from './errors.js';

function fileError(call: string, path: string, err: unknown): UwsgiError {
  const detail = err instanceof Error ? err.message : String(err);
  return new UwsgiError('UWSGI_ERR_SHAREDAREA_FILE', `${call}: file ${echo(path)}: ${detail}`, { cause: err });
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The area size for a file-backed spec: `size=` when given, else the existing file's size. */
export function fileInitialSize(path: string, size: number | null, optionName: string, arg: string): number {
  if (size !== null) return size;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (isMissing(err)) {
      throw new UwsgiError(
        'UWSGI_ERR_SHAREDAREA_FILE',
        `${optionName}: file ${echo(path)} does not exist and no size= was given to create it (in ${echo(arg)})`,
        { cause: err },
      );
    }
    throw fileError(optionName, path, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new UwsgiError('UWSGI_ERR_SHAREDAREA_FILE', `${optionName}: ${echo(path)} is not a regular file (in ${echo(arg)})`);
    }
    if (st.size === 0) {
      throw new UwsgiError(
        'UWSGI_ERR_OPTION_VALUE',
        `${optionName}: you need to set a size for a sharedarea !!! [${arg}] (file ${echo(path)} is empty and no size= was given)`,
      );
    }
    return st.size;
  } finally {
    closeSync(fd);
  }
}

/** Fill `into` from the file (bytes past the file's end stay zero); a missing file is created zero-filled. */
export function loadAreaFile(path: string, into: Uint8Array, optionName: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (!isMissing(err)) throw fileError(optionName, path, err);
    try {
      const created = openSync(path, 'wx');
      try {
        let off = 0;
        const zeros = new Uint8Array(Math.min(into.length, 1 << 20));
        for (let round = 0; off < into.length && round < into.length; round++) {
          off += writeSync(created, zeros, 0, Math.min(zeros.length, into.length - off), off);
        }
      } finally {
        closeSync(created);
      }
    } catch (err2) {
      throw fileError(`${optionName} (creating a zero-filled file of ${into.length} bytes)`, path, err2);
    }
    return;
  }
  try {
    let off = 0;
    for (let round = 0; off < into.length && round < into.length; round++) {
      const n = readSync(fd, into, off, into.length - off, off);
      if (n === 0) break;
      off += n;
    }
  } catch (err) {
    throw fileError(optionName, path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write the area's bytes back at offset 0 (the file is not truncated if it is longer) and
 * flush to disk. Takes a snapshot copy first, so the write sees one consistent buffer.
 */
export async function syncAreaFile(path: string, area: Uint8Array): Promise<void> {
  const snapshot = Buffer.from(area); // copies out of the SharedArrayBuffer
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r+').catch(async (err: unknown) => {
      if (isMissing(err)) return fsp.open(path, 'w');
      throw err;
    });
  } catch (err) {
    throw fileError('syncSharedareaFiles()', path, err);
  }
  try {
    let off = 0;
    for (let round = 0; off < snapshot.length && round < snapshot.length; round++) {
      const { bytesWritten } = await fh.write(snapshot, off, snapshot.length - off, off);
      off += bytesWritten;
    }
    await fh.datasync();
  } catch (err) {
    throw fileError('syncSharedareaFiles()', path, err);
  } finally {
    await fh.close();
  }
}
