/**
 * A small tmpfs for full-disk tests. Mounting needs root (or CAP_SYS_ADMIN); where it is not
 * permitted `mountTmpfs` returns the reason so the suite can skip with a clear message instead of
 * failing. Always `unmount` in afterAll.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** A mounted tmpfs, or why there is none. */
export type Tmpfs = { path: string; unmount(): void } | { skip: string };

/** Mounts a tmpfs of `sizeMiB` on a fresh temp directory. */
export function mountTmpfs(sizeMiB: number): Tmpfs {
  const path = fs.mkdtempSync(join(os.tmpdir(), 'walrus-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    fs.rmSync(path, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    return { skip: `cannot mount a ${sizeMiB} MiB tmpfs (needs root or CAP_SYS_ADMIN): ${stderr}` };
  }
  return {
    path,
    unmount() {
      try {
        execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      } finally {
        fs.rmSync(path, { recursive: true, force: true });
      }
    },
  };
}

/** Fills `path` with a file of `bytes` (real pages, not a hole) to take space away from the test's subject. */
export function writeBallast(path: string, bytes: number): void {
  const fd = fs.openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    for (let at = 0; at < bytes; at += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - at));
  } finally {
    fs.closeSync(fd);
  }
}
