/**
 * Test harness for the broker suites: starts the real `walrus-broker` daemon as a child process on
 * a loopback port with a temp data dir, and talks raw frames to it.
 *
 * The daemon is `dist/broker/cli.js` (`make test` builds first); when dist is missing or older than
 * a source file (someone ran vitest without building), or with WALRUS_TEST_FROM_SRC=1, it runs
 * `src/broker/cli.ts` through tsx instead.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame, FrameDecoder } from '../../src/protocol/index.js';
import type { ProtocolError } from '../../src/protocol/index.js';
import { afterAll, beforeAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST_CLI = join(ROOT, 'dist/broker/cli.js');
const SRC_CLI = join(ROOT, 'src/broker/cli.ts');

/** Newest modification time (ms) of the .ts files under `dir`. */
function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Node arguments that run the daemon: built dist when fresh, else the sources through tsx. */
export function daemonCommand(): string[] {
  const fromSrc =
    process.env.WALRUS_TEST_FROM_SRC === '1' || !existsSync(DIST_CLI) || statSync(DIST_CLI).mtimeMs < newestSourceMs(join(ROOT, 'src'));
  return fromSrc ? ['--import', 'tsx', SRC_CLI] : [DIST_CLI];
}

/**
 * A temp directory created on first use of `path` and removed by `cleanup`: for describe-level
 * fixtures, so a run that skips the suite (`-t`) leaves nothing behind.
 */
export function lazyTempDir(prefix = 'walrus-broker-test-'): { readonly path: string; cleanup(): void } {
  const state: { path?: string } = {};
  return {
    get path() {
      state.path ??= mkdtempSync(join(tmpdir(), prefix));
      return state.path;
    },
    cleanup: () => {
      if (state.path !== undefined) rmSync(state.path, { recursive: true, force: true });
    },
  };
}

/** A temp directory removed by `cleanup`. */
export function tempDir(prefix = 'walrus-broker-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A running daemon child process. */
export interface Daemon {
  readonly process: ChildProcess;
  readonly port: number;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** SIGKILL, then wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM and wait; returns the exit code. */
  terminate(): Promise<number | string>;
}

/** Starts `walrus-broker --port 0 --data-dir <dataDir> ...args` and waits for its "listening" line. */
export async function startDaemon(dataDir: string, args: string[] = []): Promise<Daemon> {
  const command = daemonCommand();
  const child = spawn(process.execPath, [...command, '--port', '0', '--data-dir', dataDir, '--log-level', 'info', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WALRUS_PORT: '', WALRUS_DATA_DIR: '' },
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not start in time; stderr: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lines.push(line);
        try {
          const parsed = JSON.parse(line) as { msg?: string; port?: number };
          if (parsed.msg === 'listening' && typeof parsed.port === 'number') {
            clearTimeout(timer);
            resolve(parsed.port);
          }
        } catch {
          // not a JSON line
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code}) before listening; stderr: ${stderr}; stdout: ${lines.join('\n')}`));
    });
  });
  return {
    process: child,
    port,
    lines,
    stderr: () => stderr,
    exited,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A decoded reply frame. */
export type Reply = Record<string, any>;

/** A raw-frame client: send any bytes or maps, read replies in arrival order or by id. */
export class RawClient {
  readonly socket: Socket;
  /** Every reply, in arrival order. */
  readonly received: Reply[] = [];
  readonly frameErrors: ProtocolError[] = [];
  readonly closed: Promise<void>;
  private readonly waiting: Array<{ match: (r: Reply) => boolean; resolve: (r: Reply) => void }> = [];
  private nextId = 1;

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = new FrameDecoder({
      maxFrameBytes: 256 * 1024 * 1024,
      onMessage: (m) => this.onReply(m),
      onError: (e) => this.frameErrors.push(e),
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  /** Connects; with `hello` (default) also says hello and checks the reply. */
  static async connect(port: number, options: { hello?: boolean } = {}): Promise<RawClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new RawClient(socket);
    if (options.hello ?? true) {
      const reply = await client.request({ op: 'hello', version: 1, clientId: 'test' });
      if (reply.ok !== true) throw new Error(`hello failed: ${JSON.stringify(reply)}`);
    }
    return client;
  }

  /** A fresh request id. */
  id(): number {
    return this.nextId++;
  }

  /** Writes raw bytes. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends one request (an `id` is added when missing) without waiting; returns its id. */
  send(message: Record<string, unknown>): number {
    const id = (message.id as number | undefined) ?? this.id();
    this.socket.write(encodeFrame({ ...message, id }));
    return id;
  }

  /** Sends one request and waits for the reply with its id. */
  request(message: Record<string, unknown>): Promise<Reply> {
    const id = this.send(message);
    return this.replyTo(id);
  }

  /** Waits for the reply with `id`. */
  replyTo(id: number): Promise<Reply> {
    return this.waitFor((r) => r.id === id);
  }

  /** Waits for the first reply (past or future) matching `match`. */
  waitFor(match: (r: Reply) => boolean, timeoutMs = 20_000): Promise<Reply> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching reply; received ${JSON.stringify(this.received.slice(-5))}`)), timeoutMs);
      this.waiting.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onReply(reply: Reply): void {
    this.received.push(reply);
    for (let i = 0; i < this.waiting.length; i++) {
      if (this.waiting[i].match(reply)) {
        const [w] = this.waiting.splice(i, 1);
        w.resolve(reply);
        i--;
      }
    }
  }
}

/** Bytes of a string, as msgpack `bin`. */
export const bin = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Text of a `bin` value. */
export const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8');

/** Offsets of the records in a fetch reply. */
export const offsetsOf = (reply: Reply): number[] => reply.records.map((r: { offset: number }) => r.offset);

/**
 * One daemon for the enclosing describe block: started in beforeAll on a temp dir, terminated and
 * its dir removed in afterAll. Read `.daemon` inside tests.
 */
export function useDaemon(args: string[] = []): { readonly daemon: Daemon } {
  const dir = lazyTempDir();
  const state: { daemon?: Daemon } = {};
  beforeAll(async () => {
    state.daemon = await startDaemon(dir.path, args);
  });
  afterAll(async () => {
    if (state.daemon) await state.daemon.terminate();
    dir.cleanup();
  });
  return {
    get daemon(): Daemon {
      if (!state.daemon) throw new Error('the daemon is not started yet (use it inside tests)');
      return state.daemon;
    },
  };
}
