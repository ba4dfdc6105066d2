import { vi } from 'vitest';
import { RepairMemory } from '../../src/analyze/repair-memory.ts';
import { largeAllocations } from './large-allocations.ts';

/** The largest form of a message stored with bare LFs: a CR put before each LF, nothing taken out. */
export const formSize = (message: Buffer): number => message.length + message.toString('latin1').split('\n').length - 1;

/**
 * What the analysis' repaired copies of `message` hold at once (RepairMemory, all instances), and
 * every large allocation made outside them. Undone by vi.restoreAllMocks().
 */
export function repairCopies(message: Buffer): { peak: () => number; outside: number[] } {
  let held = 0;
  let peak = 0;
  const outside = largeAllocations(message.length / 2);
  const { take, release, giveBack } = RepairMemory.prototype;
  vi.spyOn(RepairMemory.prototype, 'take').mockImplementation(function (this: RepairMemory, size: number) {
    held += size;
    peak = Math.max(peak, held);
    return outside.exempt(() => take.call(this, size));
  });
  vi.spyOn(RepairMemory.prototype, 'release').mockImplementation(function (this: RepairMemory, bytes: Uint8Array) {
    held -= bytes.length;
    release.call(this, bytes);
  });
  vi.spyOn(RepairMemory.prototype, 'giveBack').mockImplementation(function (this: RepairMemory) {
    held = 0;
    giveBack.call(this);
  });
  return { peak: () => peak, outside: outside.sizes };
}
