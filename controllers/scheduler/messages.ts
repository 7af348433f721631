// Upstream's scheduling failure texts: FitError.Error() (a sorted histogram of filter
// reasons across nodes) and the DefaultPreemption PostFilter message that follows it.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Status } from './plugins/types.js';

export const ERR_NO_NODES = 'no nodes available to schedule pods';
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_PREEMPTION_VICTIMS = 'No preemption victims found for incoming pod';
// events.k8s.io notes are capped at 1 KiB; upstream truncates before recording.
const NOTE_LIMIT = 1024;

/** "N reason" strings, sorted as strings (so "10 x" sorts before "2 y", as upstream). */
export function reasonHistogram(statuses: Iterable<Status>): string[] {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort();
}

/**
 * FitError.Error(): "0/N nodes are available: <histogram>. <postFilterMsg>." The preemption
 * message ends in its own period, so upstream prints ".." at the end; kept, as users grep it.
 */
export function fitErrorMessage(numAllNodes: number, statuses: Iterable<Status>, opts: { preFilterMsg?: string; postFilterMsg?: string } = {}): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (opts.preFilterMsg) msg += ` ${opts.preFilterMsg}.`;
  else {
    const hist = reasonHistogram(statuses);
    if (hist.length) msg += ` ${hist.join(', ')}.`;
  }
  if (opts.postFilterMsg) msg += ` ${opts.postFilterMsg}.`;
  return msg;
}

/**
 * What DefaultPreemption reports when it finds no victims. Nodes rejected as unresolvable
 * are "not helpful"; on the others no pod of lower priority could make room (this
 * scheduler does not evict, so every remaining node ends up there).
 */
export function preemptionMessage(pod: Pod, numAllNodes: number, statuses: Iterable<Status>): string {
  if (pod.spec?.preemptionPolicy === 'Never') return 'preemption: not eligible due to preemptionPolicy=Never.';
  const post: Status[] = [];
  for (const s of statuses) {
    post.push({ code: s.code, reasons: [s.code === 'UnschedulableAndUnresolvable' ? PREEMPTION_NOT_HELPFUL : NO_PREEMPTION_VICTIMS] });
  }
  return `preemption: ${fitErrorMessage(numAllNodes, post)}`;
}

export function truncateMessage(msg: string): string {
  if (msg.length <= NOTE_LIMIT) return msg;
  return `${msg.slice(0, NOTE_LIMIT - 3)}...`;
}

export const scheduledMessage = (pod: Pod, node: string): string => `Successfully assigned ${pod.metadata?.namespace}/${pod.metadata?.name} to ${node}`;
