/**
 * The real walrus-broker daemon as a child process, for the crash, full-disk and hostile suites.
 * Starts `dist/broker/cli.js` (what `make test` builds first), or `src/broker/cli.ts` through tsx
 * when dist is missing or WALRUS_TEST_FROM_SRC=1. Restarts keep the data dir and, once known, the port,
 * so clients that reconnect find the new process where the old one was.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST_CLI = join(ROOT, 'dist/broker/cli.js');
const SRC_CLI = join(ROOT, 'src/broker/cli.ts');

/** How to run a TypeScript child script. */
export const TSX = ['--import', 'tsx'];

/** Command line of the daemon (node arguments before the broker's own flags). */
export function daemonEntry(): string[] {
  const fromSrc = process.env.WALRUS_TEST_FROM_SRC === '1' || !existsSync(DIST_CLI);
  return fromSrc ? [...TSX, SRC_CLI] : [DIST_CLI];
}

/** One daemon process; `start` again after `kill9` to restart on the same dir and port. */
export class BrokerDaemon {
  port = 0;
  child: ChildProcess | null = null;
  exited: Promise<number | string> = Promise.resolve(0);
  /** Every stdout/stderr line of every run, oldest first. */
  readonly lines: string[] = [];
  starts = 0;

  constructor(
    readonly dataDir: string,
    readonly args: string[] = [],
  ) {}

  /** Starts the process and waits for its `listening` log line; rejects with its output if it exits first. */
  async start(): Promise<number> {
    if (this.child) throw new Error('daemon already running');
    const child = spawn(process.execPath, [...daemonEntry(), '--host', '127.0.0.1', '--port', String(this.port), '--data-dir', this.dataDir, ...(this.args.includes('--log-level') ? [] : ['--log-level', 'info']), ...this.args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WALRUS_PORT: '', WALRUS_DATA_DIR: '' },
    });
    this.child = child;
    this.starts++;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    const collect = (stream: NodeJS.ReadableStream, onLine: (line: string) => void): void => {
      let pending = '';
      stream.on('data', (d: Buffer) => {
        pending += d.toString();
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          this.lines.push(line);
          onLine(line);
        }
      });
    };
    const port = await new Promise<number>((resolve, reject) => {
      collect(child.stderr!, () => {});
      collect(child.stdout!, (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
        } catch {
          // not JSON
        }
      });
      void this.exited.then((code) => {
        this.child = null;
        reject(new Error(`broker exited (${code}) before listening:\n${this.lines.slice(-10).join('\n')}`));
      });
    });
    this.port = port;
    return port;
  }

  /** SIGKILL and wait for the exit. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number | string> {
    const child = this.child;
    if (!child) return 0;
    child.kill('SIGTERM');
    const code = await this.exited;
    this.child = null;
    return code;
  }
}
