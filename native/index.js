// Loader of the compiled addon. Importing this module throws a clear error when the build is
// missing (npm skipped the install script, the compiler was absent, or the platform is not Linux),
// so callers can fall back to the pure fs backend and say why.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const BINDING_PATH = './build/Release/walrus_uring.node';

function load() {
  if (process.platform !== 'linux') {
    throw Object.assign(new Error(`@walrus/uring-napi supports Linux only (this is ${process.platform})`), {
      code: 'WALRUS_URING_UNSUPPORTED',
    });
  }
  try {
    return require(BINDING_PATH);
  } catch (cause) {
    throw Object.assign(
      new Error(
        '@walrus/uring-napi is not built: run `npm rebuild @walrus/uring-napi` (needs a C++ compiler, ' +
          'Python 3 and Node headers; see native/README.md)',
        { cause },
      ),
      { code: 'WALRUS_URING_NOT_BUILT' },
    );
  }
}

const binding = load();

/** One io_uring instance; see index.d.ts. */
export const Ring = binding.Ring;
/** Zero-filled Buffer whose memory is aligned for O_DIRECT. */
export const allocAligned = binding.allocAligned;
/** The platform's O_DIRECT open flag. */
export const O_DIRECT = binding.O_DIRECT;
/** posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM): no readahead on this descriptor; returns 0 or an errno. */
export const fadviseRandom = binding.fadviseRandom;
/** Copy-on-write mapping of bytes [0, length) of an open file; refuses a length past the file's end. */
export const mapFile = binding.mapFile;
/** Writes the crc of many log entries of one buffer in one call; see index.d.ts. */
export const crc32Entries = binding.crc32Entries;
/** zlib's crc32 of one buffer (folded with PCLMULQDQ where the CPU has it); see index.d.ts. */
export const crc32 = binding.crc32;
/** Whether this CPU takes crc32's folded path. */
export const crc32Folds = binding.crc32Folds;
/** Marks a mapFile Buffer as dropped by its owner: its length counts as external memory until unmapped. */
export const retireMapping = binding.retireMapping;
