import { describe, expect, it } from 'vitest';
import { TasksInFlight } from '../../src/pipeline/tasks-in-flight.ts';

const later = (ms: number, fail?: string): Promise<void> =>
  new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error(fail)) : resolve()), ms));

describe('TasksInFlight', () => {
  it('waits at the bound, and never holds more tasks than it', async () => {
    const tasks = new TasksInFlight(() => 2);
    let running = 0;
    let most = 0;
    const task = async (): Promise<void> => {
      running++;
      most = Math.max(most, running);
      await later(5);
      running--;
    };
    for (let i = 0; i < 10; i++) await tasks.add(task());
    await tasks.done();
    expect(running).toBe(0);
    expect(most).toBe(2);
  });

  it('throws the first failure to the next add, and again to done, once every task has ended', async () => {
    const tasks = new TasksInFlight(() => 100);
    let ended = 0;
    await tasks.add(later(1, 'first').finally(() => ended++));
    await tasks.add(later(20, 'second').finally(() => ended++));
    await later(5);
    await expect(tasks.add(later(1).finally(() => ended++))).rejects.toThrow('first');
    await expect(tasks.done()).rejects.toThrow('first');
    expect(ended).toBe(3);
  });

  it('settled waits for every task and throws nothing', async () => {
    const tasks = new TasksInFlight(() => 100);
    await tasks.add(later(1, 'refused'));
    await expect(tasks.settled()).resolves.toBeUndefined();
  });
});
