/**
 * IDLE (RFC 2177), in the selected state and — as Outlook does — in the authenticated state.
 * New mail in the selected folder arrives as `* n EXISTS`, removed mail as `* n EXPUNGE`; a
 * keep-alive `* OK Still here` keeps NAT boxes open. Commands pipelined right after `DONE` (iOS)
 * stay queued in the parser and run next.
 */
import { AUTHENTICATED, defineCommand, okOutcome } from '../command-spec.js';
import { noArguments } from '../arguments.js';

type Wake = { kind: 'line'; line: Buffer | null } | { kind: 'change' } | { kind: 'keepalive' } | { kind: 'poll' };

export const idleCommand = defineCommand({
  name: 'IDLE',
  states: AUTHENTICATED,
  parse: noArguments,
  async handler({ session }) {
    const { idleKeepaliveMs, idlePollMs } = session.host.limits;
    await session.writer.continuation('idling');
    const line = session.readRawLine().then((value): Wake => ({ kind: 'line', line: value }));
    let lastKeepaliveAt = Date.now();
    let lastPollAt = Date.now();
    for (;;) {
      if (session.hasPendingChange) await session.announceChanges(true);
      const change = session.waitForChange();
      const keepaliveIn = Math.max(0, lastKeepaliveAt + idleKeepaliveMs - Date.now());
      const pollIn = Math.max(0, lastPollAt + idlePollMs - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<Wake>((resolve) => {
        timer = setTimeout(() => resolve(keepaliveIn <= pollIn ? { kind: 'keepalive' } : { kind: 'poll' }), Math.min(keepaliveIn, pollIn));
      });
      const wake = await Promise.race([line, change.promise.then((): Wake => ({ kind: 'change' })), tick]);
      clearTimeout(timer);
      change.cancel();
      if (wake.kind === 'line') {
        if (wake.line === null) return { status: 'NO', text: 'IDLE ended.' };
        if (wake.line.toString('latin1').trim().toUpperCase() !== 'DONE') return { status: 'BAD', text: 'Expected DONE.' };
        return okOutcome('Idle completed.');
      }
      if (wake.kind === 'change') {
        await session.announceChanges(true);
      } else if (wake.kind === 'keepalive') {
        lastKeepaliveAt = Date.now();
        await session.writer.untagged('OK Still here');
      } else {
        lastPollAt = Date.now();
        await session.announceChanges(false);
      }
    }
  },
});
