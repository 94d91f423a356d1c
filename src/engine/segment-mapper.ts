/**
 * The mmap read path: batch reads of frozen segments (segment.ts `frozen`: nothing will write the file
 * again) come from one copy-on-write mapping per segment, made at the first such read and dropped when
 * the segment is removed; every other read uses pread through the file backend, and so do reads of
 * the most recently closed segment (segment.ts `justClosed`), so that its file can be recycled.
 *
 * Entries read through a mapping are views of it, not copies. That is safe because the mapping
 * belongs to its Buffer: it is unmapped only by the Buffer's finalizer, once no view is reachable, so
 * an entry held after its segment was deleted stays readable (Linux keeps an unlinked file's pages for
 * its mappings). A segment file is created at full size and never truncated, and the mapping covers
 * exactly the file's size, so no page of it lies past the end (SIGBUS). The cost, documented on
 * `Entry`: a deleted segment's disk space returns only when the GC collects the last view of it. (A
 * caller writing into such `data` gets a private copy of the page: the mapping is MAP_PRIVATE.)
 */
import type { Logger } from 'pino';
import type { FileMapper } from './file-io.js';
import type { Segment } from './segment.js';

/** Hands out segment mappings to the block reader. One per engine. */
export class SegmentMapper {
  /** Segments whose mapping failed once (logged); read with pread from then on. */
  private readonly unmappable = new WeakSet<Segment>();

  constructor(
    private readonly files: FileMapper,
    private readonly logger: Logger,
  ) {}

  /** The whole file of `segment` mapped, when reads may come from it; else null (read with pread). */
  mappingFor(segment: Segment): Buffer | null {
    const mapping = segment.mapping;
    if (mapping !== null) return mapping.bytes;
    if (segment.isRemoved || !segment.frozen || segment.justClosed || this.unmappable.has(segment)) return null;
    let bytes: Buffer;
    try {
      bytes = this.files.map(segment.path);
    } catch (error) {
      this.unmappable.add(segment);
      this.logger.warn({ segment: segment.id, err: (error as Error).message }, 'could not map segment; reading it with pread');
      return null;
    }
    const files = this.files;
    segment.mapping = { bytes, retire: () => files.retire(bytes) };
    segment.everMapped = true;
    return bytes;
  }
}
