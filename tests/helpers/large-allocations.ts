import { vi } from 'vitest';

/**
 * Records the size of every Buffer of `atLeast` bytes or more allocated while the spy is on,
 * except inside `exempt` (the memory a test counts on its own, such as the analysis' memory for
 * repaired forms). Buffer.concat and Buffer.from allocate through these too. Undone by
 * vi.restoreAllMocks().
 */
export function largeAllocations(atLeast: number): { sizes: number[]; exempt: <T>(allocate: () => T) => T } {
  const sizes: number[] = [];
  let exempting = false;
  for (const allocate of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const original = Buffer[allocate].bind(Buffer);
    vi.spyOn(Buffer, allocate).mockImplementation(((size: number, ...rest: unknown[]) => {
      if (size >= atLeast && !exempting) sizes.push(size);
      return (original as (size: number, ...rest: unknown[]) => Buffer)(size, ...rest);
    }) as never);
  }
  const exempt = <T>(allocate: () => T): T => {
    exempting = true;
    try {
      return allocate();
    } finally {
      exempting = false;
    }
  };
  return { sizes, exempt };
}
