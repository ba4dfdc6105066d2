import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { startThread, stopThread, threadsSettled } from '../../src/pipeline/thread-lifecycle.ts';

/** A thread that does nothing until it is stopped. */
const idle = (): Worker => new Worker('setInterval(() => {}, 1000)', { eval: true });

/** Resolves when the thread has emitted `event`; `seen()` says whether it has yet. */
function watch(worker: Worker, event: 'online' | 'exit'): { seen: () => boolean; happened: Promise<void> } {
  let seen = false;
  const happened = new Promise<void>((resolve) =>
    worker.once(event, () => {
      seen = true;
      resolve();
    }),
  );
  return { seen: () => seen, happened };
}

const settled = async (): Promise<void> => {
  for (let i = 0; i < 100 && !threadsSettled(); i++) await new Promise((r) => setTimeout(r, 20));
};

afterEach(async () => {
  await settled();
  expect(threadsSettled()).toBe(true);
});

// nodejs/node#56312: a thread creating its isolate while another tears its own down can crash
// the process. These hold the order that avoids it; they fail if starts and stops overlap.
describe('starting and stopping threads never overlap', () => {
  it('a thread asked for while another stops is created only once that one has exited', async () => {
    const old = await startThread(idle);
    await watch(old, 'online').happened.catch(() => undefined);
    const oldExit = watch(old, 'exit');
    const stopped = stopThread(old);
    let exitedWhenCreated: boolean | null = null;
    const fresh = await startThread(() => {
      exitedWhenCreated = oldExit.seen();
      return idle();
    });
    expect(exitedWhenCreated).toBe(true);
    await stopped;
    await stopThread(fresh);
  });

  it('a thread is stopped only once every thread being started is running', async () => {
    const old = await startThread(idle);
    const fresh = await startThread(idle);
    const freshOnline = watch(fresh, 'online');
    let onlineWhenStopped: boolean | null = null;
    old.once('exit', () => {
      onlineWhenStopped = freshOnline.seen();
    });
    await stopThread(old);
    expect(onlineWhenStopped).toBe(true);
    await stopThread(fresh);
  });

  it('threads start together, and stop together: only the other kind waits', async () => {
    let created = 0;
    const counting = (): Worker => (created++, idle());
    const first = startThread(counting);
    const second = startThread(counting);
    // both created at once, before either is running
    expect(created).toBe(2);
    const threads = await Promise.all([first, second]);
    await Promise.all(threads.map((w) => watch(w, 'online').happened));
    const exits = threads.map((w) => watch(w, 'exit'));
    const stops = threads.map((w) => stopThread(w));
    await Promise.race(stops);
    await Promise.all(stops);
    expect(exits.every((e) => e.seen())).toBe(true);
  });

  it('requests are served in the order they were made: a start asked after a stop waits for it, and so do the starts after it', async () => {
    const order: string[] = [];
    const a = await startThread(idle);
    await new Promise<void>((resolve) => a.once('online', () => resolve()));
    a.once('exit', () => order.push('a exited'));
    const stopA = stopThread(a);
    const b = startThread(() => (order.push('b created'), idle()));
    const c = startThread(() => (order.push('c created'), idle()));
    const threads = await Promise.all([b, c]);
    await stopA;
    expect(order).toEqual(['a exited', 'b created', 'c created']);
    await Promise.all(threads.map((w) => stopThread(w)));
  });

  it('a thread that cannot be created rejects, and holds nothing back', async () => {
    await expect(
      startThread(() => {
        throw new Error('no threads here');
      }),
    ).rejects.toThrow('no threads here');
    const next = await startThread(idle);
    await stopThread(next);
  });

  it('a thread that dies while it starts does not hold the stops behind it', async () => {
    const dying = await startThread(() => new Worker('throw new Error("dies at once")', { eval: true }));
    dying.on('error', () => undefined);
    const other = await startThread(idle);
    await stopThread(other);
    await stopThread(dying);
  });
});
