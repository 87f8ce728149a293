/**
 * DOM mirroring of the shared tab with rrweb, masked and batched. Uses the DOM only (no extension
 * API): the injected entry (contents/capture/entry.ts) connects it to the background.
 */
import { record, type eventWithTime, type recordOptions } from "rrweb";
import { isSensitiveField, MASKED_VALUE, maskSelector, maskValue, UI_ATTRIBUTE, type MaskRules } from "./masking";
import { addedUnderMask, fixAttributeChanges, fixSerialized, fixTextChanges, PageState } from "./page-state";

export interface RecorderOptions {
  rules: MaskRules;
  /** Receives batches of events, in order. */
  send: (events: unknown[]) => void;
  /** Batching window. Small: it bounds the added latency; large: fewer messages. */
  flushMs?: number;
  /** Take full snapshots in slices (default); false: in rrweb's one synchronous pass. */
  sliced?: boolean;
}

export interface Recorder {
  snapshot(): void;
  stop(): void;
  /**
   * The id, in this recording, of the iframe (here or in a same-origin subframe, or a shadow root)
   * whose window is `win`; -1 when the recording has not (yet) sent it, or when the iframe is
   * masked (its content is then never recorded). Queued events go first, so the id is known to
   * the receiver before anything refers to it.
   */
  frameElementId(win: unknown): number;
  /** The node this recording sent with `id` (an agent's pointer names it); null if none is live. */
  nodeById(id: number): Node | null;
}

/**
 * Main-thread work per slice of a full snapshot. rrweb serialises the page in one synchronous pass
 * (919 ms at 10,000 nodes in the isolated world); patches/rrweb+2.2.2.patch walks it in slices of
 * about this long and yields to the page between them, sending each slice as it is done. Sending
 * a slice (a structured clone to the background) and the odd garbage collection come on top, and
 * a timer can find two slices back to back: 4 ms keeps the page's longest block under 50 ms on a
 * 10,000-element page (README "Performance").
 */
export const SNAPSHOT_SLICE_MS = 4;

/** rrweb's options plus the patch's `sliceSnapshot` (patches/rrweb+2.2.2.patch). */
type RecordOptions = recordOptions<eventWithTime> & { sliceSnapshot?: { budgetMs: number; done?: () => void } };

const INPUT_KINDS = ["color", "date", "datetime-local", "email", "month", "number", "range", "search", "tel", "text", "time", "url", "week", "textarea", "select", "password"] as const;

/**
 * rrweb hooks these setters with `defineProperty(proto, key, { set })`, a partial descriptor that
 * relies on the existing accessor keeping its getter. In a Firefox content script the prototypes
 * are Xray views: the native accessor is not an own property of the view, so the hook creates a
 * setter-only expando and every `.value` read in the recorder returns undefined (typing showed as
 * empty). Pinning the full native accessor as an own property first makes the partial define
 * merge as it does in Chrome. Only the extension's view changes; the page never sees it.
 */
function pinInputAccessors(): void {
  const targets: [object, string][] = [
    [HTMLInputElement.prototype, "value"],
    [HTMLInputElement.prototype, "checked"],
    [HTMLSelectElement.prototype, "value"],
    [HTMLTextAreaElement.prototype, "value"],
    [HTMLSelectElement.prototype, "selectedIndex"],
    [HTMLOptionElement.prototype, "selected"],
  ];
  for (const [proto, key] of targets) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, key);
    if (descriptor?.get && descriptor.configurable) Object.defineProperty(proto, key, descriptor);
  }
}

export function startRecorder({ rules, send, flushMs = 16, sliced = true }: RecorderOptions): Recorder {
  pinInputAccessors();
  let queue: unknown[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    send(batch);
  };
  const pageState = new PageState({
    rules,
    push: (event) => {
      queue.push(event);
      timer ??= setTimeout(flush, flushMs);
    },
  });
  pageState.start();
  /** A sliced snapshot is being sent: its pieces go as soon as each is made, not batched. */
  let snapshotting = false;
  const options: RecordOptions = {
    emit(event) {
      // rrweb serialises HTML defaults for form state; the agent must see the live state.
      if (event.type === 2) fixSerialized(event.data.node as Parameters<typeof fixSerialized>[0], rules);
      // Media is not played for the agent (stripMedia in page-state.ts): its play/pause/seek events have no use there.
      else if (event.type === 3 && event.data.source === 7) return;
      else if (event.type === 3 && event.data.source === 0) {
        for (const add of event.data.adds) fixSerialized(add.node as Parameters<typeof fixSerialized>[0], rules, addedUnderMask(add.parentId, rules));
        fixAttributeChanges(event.data.attributes as Parameters<typeof fixAttributeChanges>[0], rules);
        fixTextChanges(event.data.texts, rules);
      }
      else if (event.type === 4) snapshotting = sliced;
      queue.push(event);
      // Full snapshots and their later pieces go at once: the agent's view builds up as they arrive.
      if (event.type === 2 || snapshotting) flush();
      if (event.type === 2 && !sliced) pageState.afterSnapshot();
      else timer ??= setTimeout(flush, flushMs);
    },
    sliceSnapshot: sliced
      ? {
          budgetMs: SNAPSHOT_SLICE_MS,
          done() {
            snapshotting = false;
            pageState.afterSnapshot();
          },
        }
      : undefined,
    blockSelector: `[${UI_ATTRIBUTE}]`,
    maskTextSelector: maskSelector(rules),
    // A fixed mask, so neither the text's length nor its typing rhythm shows.
    maskTextFn: (text) => (text.trim() ? MASKED_VALUE : text),
    // Route every input through maskInputFn: rrweb calls it only for the tags/types listed here.
    maskInputOptions: Object.fromEntries(INPUT_KINDS.map((kind) => [kind, true])),
    maskInputFn: (value, element) => maskValue(value, element ?? null, rules),
    inlineStylesheet: true,
    inlineImages: false,
    collectFonts: false,
    // Every input event (not "last", which waits for change/blur): the agent sees typing as it happens.
    sampling: { mousemove: 50, scroll: 50 },
    slimDOMOptions: { script: true, comment: true, headFavicon: true, headMetaSocial: true, headMetaRobots: true, headMetaVerification: true },
  };
  const stopRecording = record(options);
  return {
    snapshot() {
      record.takeFullSnapshot(true);
    },
    frameElementId(win) {
      flush();
      for (const id of record.mirror.getIds()) {
        const node = record.mirror.getNode(id) as HTMLIFrameElement | null;
        if (node && (node.nodeName === "IFRAME" || node.nodeName === "FRAME") && node.contentWindow === win) return isSensitiveField(node, rules) ? -1 : id;
      }
      return -1;
    },
    nodeById(id) {
      return record.mirror.getNode(id) as Node | null;
    },
    stop() {
      pageState.stop();
      stopRecording?.();
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}

export { MASKED_VALUE };
