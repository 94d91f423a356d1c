import { describe, expect, it } from 'vitest';
import { EngineErrorCode } from '../errors.js';
import { READS_ENV, resolveReadsRequest, selectReads } from './select-reads.js';
import { asMmapAddon, type MmapAddon } from './mmap-file-mapper.js';

const notBuilt = async (): Promise<never> => {
  throw Object.assign(new Error('@walrus/uring-napi is not built'), { code: 'WALRUS_URING_NOT_BUILT' });
};
/** Never maps: selection only needs the functions to exist. */
const fakeAddon: MmapAddon = {
  mapFile: () => {
    throw new Error('not in this test');
  },
  retireMapping: () => {},
};
const loadFake = async (): Promise<MmapAddon> => fakeAddon;

describe('resolveReadsRequest', () => {
  it('defaults to auto', () => {
    expect(resolveReadsRequest(undefined, {})).toEqual({ choice: 'auto', source: 'default' });
    expect(resolveReadsRequest(undefined, { [READS_ENV]: '' })).toEqual({ choice: 'auto', source: 'default' });
  });

  it(`reads ${READS_ENV} when the option is absent or auto`, () => {
    expect(resolveReadsRequest(undefined, { [READS_ENV]: 'pread' })).toEqual({ choice: 'pread', source: `${READS_ENV}=pread` });
    expect(resolveReadsRequest('auto', { [READS_ENV]: 'mmap' })).toEqual({ choice: 'mmap', source: `${READS_ENV}=mmap` });
  });

  it('lets an explicit option win over the environment', () => {
    expect(resolveReadsRequest('pread', { [READS_ENV]: 'mmap' })).toEqual({ choice: 'pread', source: 'reads option' });
    expect(resolveReadsRequest('mmap', { [READS_ENV]: 'pread' })).toEqual({ choice: 'mmap', source: 'reads option' });
  });

  it('rejects unknown values from the option and from the environment with INVALID_ARGUMENT', () => {
    expect(() => resolveReadsRequest('mmap2', {})).toThrow(expect.objectContaining({ code: EngineErrorCode.INVALID_ARGUMENT }));
    expect(() => resolveReadsRequest(7, {})).toThrow(/unknown read path "7" from reads option/);
    expect(() => resolveReadsRequest(undefined, { [READS_ENV]: 'MMAP' })).toThrow(/unknown read path "MMAP" from WALRUS_READS=MMAP/);
  });
});

describe('selectReads', () => {
  it('pread when asked, without loading the addon', async () => {
    let loads = 0;
    const selected = await selectReads({ request: resolveReadsRequest(undefined, { [READS_ENV]: 'pread' }), loadAddon: async () => (loads++, notBuilt()) });
    expect(selected).toMatchObject({ name: 'pread', mapper: null });
    expect(selected.reason).toBe(`pread: chosen by ${READS_ENV}=pread`);
    expect(loads).toBe(0);
  });

  it('auto picks mmap when the addon loads (it measured faster), and says why', async () => {
    const selected = await selectReads({ request: resolveReadsRequest(undefined, {}), loadAddon: loadFake });
    expect(selected.name).toBe('mmap');
    expect(selected.mapper).not.toBeNull();
    expect(selected.reason).toMatch(/^mmap .*measured/);
  });

  it('auto falls back to pread when the addon is not built, and says so', async () => {
    const selected = await selectReads({ request: resolveReadsRequest(undefined, {}), loadAddon: notBuilt });
    expect(selected).toMatchObject({ name: 'pread', mapper: null });
    expect(selected.reason).toMatch(/^pread: fallback.*not loadable.*not built/);
  });

  it('auto falls back to pread when the addon predates mapFile', async () => {
    const old = async (): Promise<MmapAddon> => asMmapAddon({ Ring: class {}, allocAligned: () => Buffer.alloc(0) });
    const selected = await selectReads({ request: resolveReadsRequest(undefined, {}), loadAddon: old });
    expect(selected.name).toBe('pread');
    expect(selected.reason).toMatch(/not loadable.*built without mapFile/);
  });

  it("mmap asked for never falls back without the addon: IO_ERROR with the reason", async () => {
    for (const request of [resolveReadsRequest('mmap', {}), resolveReadsRequest(undefined, { [READS_ENV]: 'mmap' })]) {
      const error = await selectReads({ request, loadAddon: notBuilt }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: EngineErrorCode.IO_ERROR });
      expect((error as Error).message).toContain(`not loadable`);
      expect((error as Error).message).toContain(`requested by ${request.source}`);
    }
  });

  it("a caller's FileIO without files on disk: pread under auto or the variable, INVALID_ARGUMENT for the option", async () => {
    const auto = await selectReads({ request: resolveReadsRequest(undefined, {}), foreignIo: 'mem', loadAddon: loadFake });
    expect(auto.name).toBe('pread');
    expect(auto.reason).toContain("caller's FileIO (mem)");
    const fromEnv = await selectReads({ request: resolveReadsRequest(undefined, { [READS_ENV]: 'mmap' }), foreignIo: 'mem', loadAddon: loadFake });
    expect(fromEnv.name).toBe('pread');
    expect(fromEnv.reason).toContain(`mmap asked by ${READS_ENV}=mmap`);
    await expect(selectReads({ request: resolveReadsRequest('mmap', {}), foreignIo: 'mem', loadAddon: loadFake })).rejects.toMatchObject({
      code: EngineErrorCode.INVALID_ARGUMENT,
    });
  });
});
