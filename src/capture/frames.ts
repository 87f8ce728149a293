/**
 * Cross-origin frames in the agent's view. The recorder in the top frame cannot read a
 * cross-origin iframe's document, so a recorder runs in that frame too (its own rrweb stream, its
 * own node ids) and the background places that stream inside the iframe of the parent's stream.
 *
 * rrweb can do this itself (`recordCrossOriginIframes`), but its child frames send every event to
 * the parent with `window.parent.postMessage`, where the embedding page's scripts read them: a
 * third party's frame would leak its content to the page that embeds it. Here the events go from
 * the frame's content script to the background over the extension's own port, and only a random
 * token crosses the page (see contents/capture/entry.ts).
 *
 * Ids: each frame's stream gets its own block of ids, `slot * FRAME_ID_SPAN + id`. The top frame
 * is slot 0, so its events pass unchanged; rrweb's ids are counters starting at 1 that never come
 * near 2^32, and 2^20 slots stay below 2^53. The same holds for stylesheet ids.
 */

export const FRAME_ID_SPAN = 2 ** 32;

/** Where a frame's stream goes: its id block, and the id (in the top stream) of its iframe element. */
export interface FramePlace {
  slot: number;
  iframeId: number;
  /** The frame's document (top-stream id), learnt from its last full snapshot: nodes added later belong to it. */
  rootId?: number;
}

interface Event {
  type: number;
  timestamp: number;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

type Serialized = { id: number; type: number; rootId?: number; childNodes?: Serialized[] };

const enum Type {
  DomContentLoaded = 0,
  Load = 1,
  FullSnapshot = 2,
  Incremental = 3,
  Meta = 4,
  Custom = 5,
  Plugin = 6,
}

const enum Source {
  Mutation = 0,
  MouseMove = 1,
  MouseInteraction = 2,
  Scroll = 3,
  ViewportResize = 4,
  Input = 5,
  TouchMove = 6,
  MediaInteraction = 7,
  StyleSheetRule = 8,
  CanvasMutation = 9,
  Font = 10,
  Drag = 12,
  StyleDeclaration = 13,
  Selection = 14,
  AdoptedStyleSheet = 15,
}

const DOCUMENT_NODE = 0;

/**
 * One event of a frame's own stream, as events of the top stream: ids moved into the frame's
 * block, its full snapshot attached under the iframe element (plus its scroll position). Events
 * that describe the frame's window rather than its content (meta, load, viewport size) have no
 * place in the parent's page and are dropped. The input is not changed; `place.rootId` is set
 * from a full snapshot.
 */
export function placeFrameEvent(event: Event, place: FramePlace): Event[] {
  const offset = place.slot * FRAME_ID_SPAN;
  const shift = (value: unknown): unknown =>
    typeof value === "number" && value >= 0 ? value + offset : Array.isArray(value) ? value.map(shift) : value;
  const moveKeys = <T extends Record<string, unknown>>(obj: T, keys: readonly string[]): T => {
    const out: Record<string, unknown> = { ...obj };
    for (const key of keys) if (key in out) out[key] = shift(out[key]);
    return out as T;
  };
  const moveNode = (node: Serialized, rootId: number): Serialized => {
    const moved: Serialized = { ...node, id: node.id + offset };
    if (typeof node.rootId === "number") moved.rootId = node.rootId + offset;
    else if (node.type !== DOCUMENT_NODE) moved.rootId = rootId;
    if (node.childNodes) moved.childNodes = node.childNodes.map((child) => moveNode(child, rootId));
    return moved;
  };
  const data = event.data ?? {};
  switch (event.type) {
    case Type.FullSnapshot: {
      const root = data.node as Serialized;
      const rootId = root.id + offset;
      place.rootId = rootId;
      const attach: Event = {
        type: Type.Incremental,
        timestamp: event.timestamp,
        data: {
          source: Source.Mutation,
          adds: [{ parentId: place.iframeId, nextId: null, node: moveNode(root, rootId) }],
          removes: [],
          texts: [],
          attributes: [],
          isAttachIframe: true,
        },
      };
      const scroll = data.initialOffset as { left?: number; top?: number } | undefined;
      if (!scroll || (!scroll.left && !scroll.top)) return [attach];
      return [attach, { type: Type.Incremental, timestamp: event.timestamp, data: { source: Source.Scroll, id: rootId, x: scroll.left ?? 0, y: scroll.top ?? 0 } }];
    }
    case Type.Meta:
    case Type.Load:
    case Type.DomContentLoaded:
      return [];
    case Type.Custom: {
      // Glimpse's own events (src/capture/page-events.ts) name their node by `id`.
      const payload = data.payload;
      if (!payload || typeof payload !== "object") return [event];
      return [{ ...event, data: { ...data, payload: moveKeys(payload as Record<string, unknown>, ["id"]) } }];
    }
    case Type.Incremental:
      break;
    default:
      return [];
  }
  const moved = (extra: Record<string, unknown>): Event[] => [{ ...event, data: { ...data, ...extra } }];
  switch (data.source) {
    case Source.Mutation: {
      const adds = (data.adds as { parentId: number; nextId: number | null; previousId?: number | null; node: Serialized }[]).map((add) => ({
        ...moveKeys(add, ["parentId", "nextId", "previousId"]),
        node: moveNode(add.node, place.rootId ?? offset + 1),
      }));
      const removes = (data.removes as Record<string, unknown>[]).map((remove) => moveKeys(remove, ["parentId", "id"]));
      const texts = (data.texts as Record<string, unknown>[]).map((text) => moveKeys(text, ["id"]));
      const attributes = (data.attributes as Record<string, unknown>[]).map((attribute) => moveKeys(attribute, ["id"]));
      return moved({ adds, removes, texts, attributes });
    }
    case Source.MouseMove:
    case Source.TouchMove:
    case Source.Drag:
      return moved({ positions: (data.positions as Record<string, unknown>[]).map((position) => moveKeys(position, ["id"])) });
    case Source.ViewportResize:
      return [];
    case Source.MouseInteraction:
    case Source.Scroll:
    case Source.MediaInteraction:
    case Source.CanvasMutation:
    case Source.Input:
      return moved(moveKeys(data, ["id"]));
    case Source.StyleSheetRule:
    case Source.StyleDeclaration:
      return moved(moveKeys(data, ["id", "styleId"]));
    case Source.AdoptedStyleSheet: {
      const styles = (data.styles as Record<string, unknown>[] | undefined)?.map((style) => moveKeys(style, ["styleId"]));
      return moved({ ...moveKeys(data, ["id", "styleIds"]), ...(styles ? { styles } : {}) });
    }
    case Source.Selection:
      return moved({ ranges: (data.ranges as Record<string, unknown>[]).map((range) => moveKeys(range, ["start", "end"])) });
    case Source.Font:
      return [event];
    default:
      return [];
  }
}
