/**
 * One owner per data directory and key. The lock file holds the owner's pid and its start time (from
 * /proc) so a lock left behind by a killed process is recognised as stale and taken over, while a
 * recycled pid is not mistaken for the old owner. Node has no flock(2); an exclusive create is the
 * atomic step.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { LockedError } from './errors.js';

const LOCK_FILE = 'LOCK';

interface LockOwner {
  pid: number;
  start: string;
}

function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 22 (starttime) after the parenthesised command name, which may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(owner.pid);
  return start === null || owner.start === '' || start === owner.start;
}

/** A held lock; `release` removes the file. */
export class DirLock {
  private constructor(private readonly path: string) {}

  /** Takes the lock of `dir` or throws LockedError naming the live owner. */
  static acquire(dir: string): DirLock {
    const path = join(dir, LOCK_FILE);
    const me: LockOwner = { pid: process.pid, start: processStart(process.pid) ?? '' };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
        try {
          fs.writeSync(fd, JSON.stringify(me));
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        return new DirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let owner: LockOwner | null = null;
      try {
        owner = JSON.parse(fs.readFileSync(path, 'utf8')) as LockOwner;
      } catch {
        owner = null; // empty or torn lock file: its writer died mid-create
      }
      if (owner && isAlive(owner)) {
        throw new LockedError(`data directory ${dir} is in use by process ${owner.pid}; stop it first (one owner per data dir and key)`);
      }
      fs.rmSync(path, { force: true });
    }
    throw new LockedError(`could not take the lock of ${dir}: another process keeps racing for it`);
  }

  release(): void {
    fs.rmSync(this.path, { force: true });
  }
}
