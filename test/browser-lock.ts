/**
 * The machine-wide browser lock (`flock /tmp/lingoguard-browser.lock`), taken from inside a
 * Node test: only one browser suite may load the machine's two cores at a time.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';

const LOCK = '/tmp/lingoguard-browser.lock';

/**
 * Waits for the lock and returns its release. A child `flock` holds it while its stdin is
 * open, so the lock goes when this process does, however it ends. When a process this one
 * runs under already holds the lock (`flock … npm test`), waiting would deadlock: then the
 * lock is already ours.
 */
export async function holdBrowserLock(): Promise<() => void> {
  closeSync(openSync(LOCK, 'a'));
  if (heldByAncestor()) return () => undefined;
  const holder = spawn('flock', [LOCK, '-c', 'echo locked && exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock exited with ${code} before taking ${LOCK}`)));
  });
  // Neither the holder nor its pipes keep this process alive: when it ends, the lock goes.
  holder.unref();
  for (const pipe of [holder.stdin, holder.stdout]) (pipe as unknown as { unref(): void }).unref();
  return () => holder.stdin.end();
}

/** Whether an ancestor of this process holds a flock on the lock file (Linux /proc). */
function heldByAncestor(): boolean {
  let locks: string;
  try {
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  const inode = statSync(LOCK).ino;
  const holders = new Set(
    locks.split('\n').flatMap((line) => {
      // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
      const [, kind, , , pid, file] = line.trim().split(/\s+/);
      return kind === 'FLOCK' && file?.split(':')[2] === String(inode) ? [Number(pid)] : [];
    }),
  );
  for (let pid = process.pid; pid > 1; pid = parentOf(pid)) {
    if (holders.has(pid)) return true;
  }
  return false;
}

function parentOf(pid: number): number {
  try {
    // The command name in parentheses may hold spaces: read after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 1;
  }
}
