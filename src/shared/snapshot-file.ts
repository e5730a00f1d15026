// A snapshot file on disk, for the CLI and the server's worker (the engine does no I/O). A version 2
// file is opened lazily: the header is read now, and each part (an object list, a pod, a node's
// dump) is read with a positioned read when the diagnosis first asks for it — the answer does not
// wait for the 139 MB the diagnosis never looks at. A version 1 file is read and validated whole.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { checkSnapshotBytes, isSnapshotV2, openSnapshot, type SnapshotBytes } from '../engine/snapshot/format';
import { DEFAULT_SNAPSHOT_LIMITS, SnapshotError, loadSnapshot, type SnapshotLimits } from '../engine/snapshot/load';
import { limitNamed } from './limits';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import { BadInputError } from './errors';

/** Closes the file of a lazily read snapshot once nothing holds the snapshot any more. */
const closer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
});

/**
 * The snapshot at `path`; throws BadInputError when it cannot be read, SnapshotError when it is
 * invalid. Version 2: lazily, each part validated on first use; `whole` reads and validates every
 * part now (`snapshot validate`). `limits` are the caller's (flags, settings), never the file's.
 */
export function openSnapshotFile(path: string, whole = false, limits: SnapshotLimits = {}): NetpathSnapshot {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new BadInputError(`snapshot ${path} is not a file`, 'source');
    }
    size = st.size;
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    throw new BadInputError(`cannot read snapshot ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'source');
  }
  const bytes = fileBytes(fd, size, path);
  let lazy = false;
  try {
    if (!isSnapshotV2(bytes.read(0, Math.min(size, 64)))) {
      // Read whole: refused unread when even 3 bytes a character (UTF-8's most for one UTF-16
      // unit) make it longer than the limit, so a huge file never becomes a string first.
      const maxChars = limits.maxSnapshotChars ?? DEFAULT_SNAPSHOT_LIMITS.maxSnapshotChars;
      if (size > 3 * maxChars) throw new SnapshotError('snapshot', [{ path: '(root)', message: `${size} bytes is more characters than ${limitNamed('maxSnapshotChars', maxChars)}` }]);
      return loadSnapshot(bytes.read(0, size), limits);
    }
    if (whole) return checkSnapshotBytes(bytes, limits);
    const snapshot = openSnapshot(bytes, limits);
    lazy = true;
    closer.register(snapshot, fd);
    return snapshot;
  } finally {
    if (!lazy) closeSync(fd);
  }
}

function fileBytes(fd: number, size: number, path: string): SnapshotBytes {
  return {
    size,
    read(offset, length) {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      try {
        while (got < length) {
          const n = readSync(fd, buf, got, length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
      } catch (e) {
        throw new BadInputError(`cannot read snapshot ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'source');
      }
      return buf.toString('utf8', 0, got);
    },
  };
}
