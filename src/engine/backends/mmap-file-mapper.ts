/**
 * The native side of the mmap read path: `FileMapper` over `@walrus/uring-napi`'s `mapFile` (a
 * copy-on-write MAP_PRIVATE mapping, unmapped by the Buffer's finalizer; native/src/mmap.cc).
 */
import fs from 'node:fs';
import type { FileMapper } from '../file-io.js';

/** The mapping half of the addon as native/index.d.ts declares it (restated: the package is optional). */
export interface MmapAddon {
  mapFile(fd: number, length: number): Buffer;
  retireMapping(buffer: Buffer): void;
}

/** Package name of the addon; a variable so TypeScript does not resolve the optional dependency. */
const ADDON_PACKAGE: string = '@walrus/uring-napi';

/** Imports the addon; rejects when it is missing, or built before mapFile existed. */
export async function loadMmapAddon(): Promise<MmapAddon> {
  return asMmapAddon(await import(ADDON_PACKAGE));
}

/** The loaded module as an MmapAddon; throws (WALRUS_URING_NOT_BUILT) when a build predates mapFile. */
export function asMmapAddon(module: object): MmapAddon {
  const addon = module as Partial<MmapAddon>;
  if (typeof addon.mapFile !== 'function' || typeof addon.retireMapping !== 'function') {
    throw Object.assign(new Error('@walrus/uring-napi was built without mapFile: rebuild it (cd native && npm run install)'), {
      code: 'WALRUS_URING_NOT_BUILT',
    });
  }
  return addon as MmapAddon;
}

/** Maps files through the addon. Stateless, so one instance may serve many engines. */
export class MmapFileMapper implements FileMapper {
  constructor(private readonly addon: MmapAddon) {}

  map(path: string): Buffer {
    // A descriptor of our own, read-only, closed at once: the mapping holds the file, and the
    // backend's descriptors (the uring one has readahead turned off) are left as they are.
    const fd = fs.openSync(path, fs.constants.O_RDONLY);
    try {
      return this.addon.mapFile(fd, fs.fstatSync(fd).size);
    } finally {
      fs.closeSync(fd);
    }
  }

  retire(bytes: Buffer): void {
    this.addon.retireMapping(bytes);
  }
}
