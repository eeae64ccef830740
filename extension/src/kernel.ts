/**
 * Which lake a notebook uses: its kernel's LAKELET_HOME, asked from the kernel itself
 * (a silent `user_expressions` request: no output, no history, no execution count), so a
 * notebook that sets `os.environ["LAKELET_HOME"]` is shown as it really is.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';

/** The Python expression the kernel evaluates (lakelet's own default when the variable is unset). */
export const HOME_EXPRESSION =
  "__import__('os').path.abspath(__import__('os').path.expanduser(__import__('os').environ.get('LAKELET_HOME') or '~/.lakelet'))";

/** Parse the `text/plain` repr of a Python str (`'...'` or `"..."`); null if it is not one. */
export function parsePythonString(repr: string): string | null {
  const text = repr.trim();
  if (text.length < 2 || (text[0] !== "'" && text[0] !== '"') || text[text.length - 1] !== text[0]) {
    return null;
  }
  return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** The kernel's LAKELET_HOME, or null (no kernel, not Python, busy for longer than `timeoutMs`). */
export async function kernelHome(kernel: Kernel.IKernelConnection | null, timeoutMs = 3000): Promise<string | null> {
  if (!kernel || kernel.status === 'dead' || kernel.status === 'unknown') {
    return null;
  }
  try {
    const spec = await kernel.info;
    if (spec.language_info?.name !== 'python') {
      return null;
    }
    const future = kernel.requestExecute(
      { code: '', silent: true, store_history: false, user_expressions: { home: HOME_EXPRESSION } },
      true
    );
    const timeout = new Promise<null>(resolve => setTimeout(() => resolve(null), timeoutMs));
    const reply = (await Promise.race([future.done, timeout])) as KernelMessage.IExecuteReplyMsg | null;
    if (reply === null) {
      future.dispose();
      return null;
    }
    const content = reply.content as any;
    const value = content?.user_expressions?.home;
    if (!value || value.status !== 'ok') {
      return null;
    }
    return parsePythonString(String(value.data?.['text/plain'] ?? ''));
  } catch {
    return null;
  }
}

/**
 * The index of the cell that produced a cache entry, or -1. A cell entry is named by
 * `%%lake_cache NAME` or, without a name, `cell-<the cell's id>`; a function entry
 * (`module.qualname`) is found by its `def`.
 */
export function findProducerCell(cells: { id: string; source: string }[], kind: string, name: string): number {
  if (kind === 'cell') {
    if (name.startsWith('cell-')) {
      const id = name.slice(5);
      const byId = cells.findIndex(c => c.id.startsWith(id) || id.startsWith(c.id));
      if (byId >= 0) {
        return byId;
      }
    }
    return cells.findIndex(c => {
      const first = c.source.split('\n', 1)[0].trim().split(/\s+/);
      return first[0] === '%%lake_cache' && first.slice(1).includes(name);
    });
  }
  const short = name.split('.').pop() ?? name;
  const def = new RegExp(`^\\s*(async\\s+)?def\\s+${short.replace(/[^A-Za-z0-9_]/g, '')}\\s*\\(`, 'm');
  return cells.findIndex(c => def.test(c.source));
}
