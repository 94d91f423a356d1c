import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineErrorCode, WalrusError } from '../errors.js';
import { FsFileIO } from '../fs-file-io.js';
import { IO_BACKEND_ENV, selectBackend } from './select-backend.js';
import { UringFileIO } from './uring-file-io.js';
import { loadAddonForTests } from './uring-test-support.js';

const loaded = await loadAddonForTests();
const addon = loaded.addon;
const loadReal = addon === undefined ? undefined : async () => addon;
const notBuilt = async (): Promise<never> => {
  throw Object.assign(new Error('@walrus/uring-napi is not built'), { code: 'WALRUS_URING_NOT_BUILT' });
};
const diskDir = fs.mkdtempSync(path.join(os.tmpdir(), 'walrus-select-'));
afterAll(() => fs.rmSync(diskDir, { recursive: true, force: true }));

function closeIfUring(io: unknown): void {
  if (io instanceof UringFileIO) io.close();
}

describe('selectBackend', () => {
  it(`${IO_BACKEND_ENV}=fs forces the fs backend under auto`, async () => {
    const selected = await selectBackend({ dataDir: diskDir, env: { [IO_BACKEND_ENV]: 'fs' }, loadAddon: loadReal ?? notBuilt });
    expect(selected.name).toBe('fs');
    expect(selected.io).toBeInstanceOf(FsFileIO);
    expect(selected.reason).toContain(`${IO_BACKEND_ENV}=fs`);
  });

  it("backend: 'fs' picks fs without loading the addon", async () => {
    let loads = 0;
    const selected = await selectBackend({ backend: 'fs', env: {}, loadAddon: async () => (loads++, notBuilt()) });
    expect(selected.name).toBe('fs');
    expect(loads).toBe(0);
  });

  it('auto falls back to fs when the addon is not built, and says so', async () => {
    const selected = await selectBackend({ dataDir: diskDir, env: {}, loadAddon: notBuilt });
    expect(selected.name).toBe('fs');
    expect(selected.reason).toMatch(/fallback.*not loadable.*not built/);
  });

  it("backend: 'uring' refuses to fall back: IoError with the reason", async () => {
    const error = await selectBackend({ backend: 'uring', dataDir: diskDir, env: {}, loadAddon: notBuilt }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalrusError);
    expect((error as WalrusError).code).toBe(EngineErrorCode.IO_ERROR);
    expect((error as Error).message).toContain('not loadable');
  });

  it('rejects an unknown backend name from the environment', async () => {
    await expect(selectBackend({ env: { [IO_BACKEND_ENV]: 'mmap' }, loadAddon: notBuilt })).rejects.toMatchObject({
      code: EngineErrorCode.IO_ERROR,
    });
  });

  it('auto falls back when io_uring_setup is refused (seccomp EPERM)', async (context) => {
    if (addon === undefined) return context.skip(`addon not loadable: ${loaded.reason}`);
    const refusing = {
      ...addon,
      Ring: class {
        constructor() {
          throw Object.assign(new Error('EPERM: operation not permitted, io_uring_setup'), { code: 'EPERM', errno: -1 });
        }
      } as unknown as typeof addon.Ring,
    };
    const selected = await selectBackend({ dataDir: diskDir, env: {}, loadAddon: async () => refusing });
    expect(selected.name).toBe('fs');
    expect(selected.reason).toContain('io_uring_setup refused: EPERM');
  });

  it('auto picks uring on a disk directory when the addon works', async (context) => {
    if (addon === undefined) return context.skip(`addon not loadable: ${loaded.reason}`);
    const selected = await selectBackend({ dataDir: diskDir, env: {}, loadAddon: loadReal });
    console.info(`[select-backend.test] auto on ${diskDir}: ${selected.reason}`);
    expect(selected.name).toBe('uring');
    expect(selected.io.name).toBe('uring');
    expect(fs.readdirSync(diskDir).filter((n) => n.startsWith('.walrus-uring-probe'))).toEqual([]);
    closeIfUring(selected.io);
  });

  it('passes the O_DIRECT policy through and names it in the reason', async (context) => {
    if (addon === undefined) return context.skip(`addon not loadable: ${loaded.reason}`);
    const selected = await selectBackend({ backend: 'uring', dataDir: diskDir, env: {}, loadAddon: loadReal, directWrites: 'always' });
    expect(selected.name).toBe('uring');
    expect(selected.reason).toContain('O_DIRECT always');
    const handle = await selected.io.open(path.join(diskDir, 'policy'), { create: true });
    await handle.preallocateZeroed(8192);
    await handle.writev([Buffer.alloc(100, 1)], 10);
    expect((await selected.io.readFile(path.join(diskDir, 'policy')))!.subarray(10, 110).equals(Buffer.alloc(100, 1))).toBe(true);
    await handle.close();
    closeIfUring(selected.io);
  });

  it('auto falls back on tmpfs (/dev/shm): O_DIRECT refused or pointless there', async (context) => {
    if (addon === undefined) return context.skip(`addon not loadable: ${loaded.reason}`);
    if (!fs.existsSync('/dev/shm')) return context.skip('no /dev/shm on this machine');
    const shmDir = fs.mkdtempSync('/dev/shm/walrus-select-');
    try {
      const selected = await selectBackend({ dataDir: shmDir, env: {}, loadAddon: loadReal });
      console.info(`[select-backend.test] auto on ${shmDir}: ${selected.reason}`);
      expect(selected.name).toBe('fs');
      expect(selected.reason).toContain('tmpfs');
      expect(fs.readdirSync(shmDir)).toEqual([]);
    } finally {
      fs.rmSync(shmDir, { recursive: true, force: true });
    }
  });

  it('reports the backend the default environment would choose', async () => {
    const selected = await selectBackend({ dataDir: diskDir });
    console.info(`[select-backend.test] default selection: ${selected.name} (${selected.reason})`);
    expect(['fs', 'uring']).toContain(selected.name);
    closeIfUring(selected.io);
  });
});
