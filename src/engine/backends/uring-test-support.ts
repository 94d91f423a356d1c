/**
 * Test helpers for the io_uring backend: load the addon the way the engine does (package name),
 * else from this checkout's native/ build (a developer who ran node-gyp there without reinstalling),
 * and report why it is unavailable so suites can skip with a clear reason.
 */
import { loadUringAddon, type UringAddon } from './uring-ring.js';

/** The addon and where it came from, or why it could not be loaded. */
export type AddonForTests = { addon: UringAddon; source: string } | { addon: undefined; reason: string };

const CHECKOUT_ADDON_URL = new URL('../../../native/index.js', import.meta.url).href;

/** Loads `@walrus/uring-napi`, falling back to this checkout's native/ directory. */
export async function loadAddonForTests(): Promise<AddonForTests> {
  try {
    return { addon: await loadUringAddon(), source: '@walrus/uring-napi' };
  } catch (packageError) {
    try {
      return { addon: (await import(CHECKOUT_ADDON_URL)) as UringAddon, source: 'native/ in this checkout' };
    } catch {
      return { addon: undefined, reason: (packageError as Error).message };
    }
  }
}
