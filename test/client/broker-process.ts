import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { daemonCommand } from '../broker/harness.js';

/**
 * The real walrus-broker daemon as a child process on a loopback port with a temp data dir, for the
 * SDK's scenario suites. The command comes from the broker suites' harness: the built
 * `dist/broker/cli.js` (what `make test` builds first), or the sources through tsx when dist is
 * missing or older than a source file. Unlike that harness, this one can restart a daemon on the same
 * port and data dir, which the SDK's reconnect scenarios need.
 */

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How to start a TypeScript entry point as its own node process. */
export const TSX_NODE_ARGS = ['--import', 'tsx'];

function withoutWalrusVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('WALRUS_')));
}

/** A running (or stopped) broker process. */
export class BrokerProcess {
  readonly dataDir: string;
  port = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  readonly #extraArgs: string[];

  private constructor(dataDir: string, extraArgs: string[]) {
    this.dataDir = dataDir;
    this.#extraArgs = extraArgs;
  }

  /**
   * Starts a broker on a free port with a new temp data dir. A daemon that dies before listening is
   * started again (twice at most): other suites rebuild dist/ while this one runs, and a half-written
   * build is not what is under test here. The last failure is thrown with the daemon's stderr.
   */
  static async start(extraArgs: string[] = []): Promise<BrokerProcess> {
    const broker = new BrokerProcess(mkdtempSync(path.join(tmpdir(), 'walrus-client-')), extraArgs);
    for (let attempt = 1; ; attempt++) {
      try {
        await broker.restart(0);
        return broker;
      } catch (error) {
        broker.#child = undefined;
        if (attempt === 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Starts the daemon again on `port` (default: the port it had) and the same data dir. */
  async restart(port = this.port): Promise<void> {
    if (this.#child !== undefined) throw new Error('broker already running');
    const child = spawn(
      process.execPath,
      [...daemonCommand(), '--host', '127.0.0.1', '--port', String(port), '--data-dir', this.dataDir, '--log-level', 'info', ...this.#extraArgs],
      // The daemon reads WALRUS_* variables as flag fallbacks; keep the caller's out of it.
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: withoutWalrusVariables(process.env) },
    );
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout! });
    this.port = await new Promise<number>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`broker exited (${code}) before listening: ${stderr}`));
      child.once('exit', onExit);
      lines.on('line', (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && typeof entry.port === 'number') {
            child.off('exit', onExit);
            resolve(entry.port);
          }
        } catch {
          // not JSON: ignore
        }
      });
    });
    // Keep draining stdout so the broker never blocks on a full pipe.
    child.stdout!.resume();
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await this.#exited;
    this.#child = undefined;
  }

  /** Kills the process and removes the data dir. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A `node --import tsx <script>` child whose stdout lines are collected. */
export class ScriptProcess {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #stderr = '';
  readonly #lineWaiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [...TSX_NODE_ARGS, script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (let i = this.#lineWaiters.length - 1; i >= 0; i--) {
        if (this.#lineWaiters[i].test(line)) this.#lineWaiters.splice(i, 1)[0].resolve(line);
      }
    });
    // 'close' (not 'exit'): by then stdout is drained, so `lines` holds everything the process wrote.
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  /** What the process wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitForLine(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#lineWaiters.push({ test, resolve }));
  }

  /** Sends a signal unless the process already exited, then waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}
