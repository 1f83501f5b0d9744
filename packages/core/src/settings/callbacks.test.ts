import { afterEach, describe, expect, it, vi } from 'vitest';
import { Module } from '../modules/module.ts';
import { type Callback, type CallFrame, currentCallFrame, withCallbacks, withCallbacksSync } from './callbacks.ts';
import { configure } from './settings.ts';

afterEach(() => configure({ callbacks: undefined }));

function describeFrame(frame: CallFrame | undefined): string {
  const names: string[] = [];
  for (let f = frame; f; f = f.parent)
    names.push(`${f.kind}:${(f.instance as { name?: string }).name ?? f.instance.constructor.name}`);
  return names.join(' < ');
}

class Leaf extends Module {
  seen: string[] = [];
  async forward() {
    this.seen.push(describeFrame(currentCallFrame()));
    await withCallbacks('tool', { name: 'tool' }, {}, async () => {
      this.seen.push(describeFrame(currentCallFrame()));
    });
    return 'leaf';
  }
}

class Root extends Module {
  a = new Leaf();
  b = new Leaf();
  async forward() {
    await this.a.call({});
    await new Promise((resolve) => setTimeout(resolve, 1));
    await this.b.call({});
    return describeFrame(currentCallFrame());
  }
}

describe('callbacks', () => {
  it('fires start and end hooks of every kind with the outputs or the error', async () => {
    const events: string[] = [];
    const callback: Callback = {
      onToolStart: (id, _tool, inputs) => events.push(`start ${id} ${JSON.stringify(inputs)}`),
      onToolEnd: (id, outputs, error) => events.push(`end ${id} ${String(outputs)} ${String(error)}`),
      onAdapterFormatStart: (id) => events.push(`format ${id}`),
      onAdapterFormatEnd: (id, outputs) => events.push(`formatted ${id} ${String(outputs)}`),
    };
    configure({ callbacks: [callback] });
    await withCallbacks('tool', {}, { q: 1 }, async () => 'ok', { callId: 't1' });
    await expect(
      withCallbacks('tool', {}, {}, async () => Promise.reject(new Error('no')), { callId: 't2' }),
    ).rejects.toThrow('no');
    expect(withCallbacksSync('adapterFormat', {}, {}, () => 'msgs', { callId: 'f1' })).toBe('msgs');
    expect(events).toEqual([
      'start t1 {"q":1}',
      'end t1 ok undefined',
      'start t2 {}',
      'end t2 undefined Error: no',
      'format f1',
      'formatted f1 msgs',
    ]);
  });

  it('fires instance callbacks after the configured ones and survives a throwing hook', async () => {
    const order: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    configure({
      callbacks: [
        {
          onToolStart: () => {
            throw new Error('bad hook');
          },
        },
        { onToolStart: () => order.push('global') },
      ],
    });
    await withCallbacks('tool', {}, {}, () => 1, { callbacks: [{ onToolStart: () => order.push('own') }] });
    expect(order).toEqual(['global', 'own']);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });

  it('exposes the call tree: sibling module calls share their parent, not each other', async () => {
    const root = new Root();
    const rootFrame = await root.call({});
    expect(rootFrame).toBe('module:Root');
    expect(root.a.seen).toEqual(['module:Leaf < module:Root', 'tool:tool < module:Leaf < module:Root']);
    expect(root.b.seen).toEqual(root.a.seen);
    expect(currentCallFrame()).toBeUndefined();
  });
});
