/**
 * Only a real click or key press counts: a page script can reach the (open) shadow root and call
 * click(), but it cannot make a trusted event, so it can never start sharing on its own.
 */
export const trusted = (action: () => void) => (event: Event) => {
  if (event.isTrusted) action();
};
