import { describe, expect, it } from "vitest";
import { FRAME_ID_SPAN, placeFrameEvent, type FramePlace } from "../../src/capture/frames";

const SPAN = FRAME_ID_SPAN;

const snapshot = {
  type: 2,
  timestamp: 10,
  data: {
    node: {
      type: 0,
      id: 1,
      childNodes: [
        { type: 2, id: 2, tagName: "html", attributes: {}, childNodes: [{ type: 2, id: 3, tagName: "body", attributes: {}, childNodes: [] }] },
      ],
    },
    initialOffset: { left: 0, top: 40 },
  },
};

describe("placeFrameEvent: a cross-origin frame's stream inside its parent's", () => {
  it("attaches the frame's full snapshot under its iframe, with its ids in the frame's block and its scroll position", () => {
    const place: FramePlace = { slot: 3, iframeId: 17 };
    const [attach, scroll] = placeFrameEvent(snapshot, place);
    const add = (attach!.data as { adds: { parentId: number; nextId: null; node: { id: number; rootId?: number; childNodes: { id: number; rootId: number }[] } }[]; isAttachIframe: boolean }).adds[0]!;
    expect(attach!.type).toBe(3);
    expect((attach!.data as { isAttachIframe: boolean }).isAttachIframe).toBe(true);
    expect(add.parentId).toBe(17);
    expect(add.node.id).toBe(3 * SPAN + 1);
    expect(add.node.rootId).toBeUndefined(); // the document itself
    expect(add.node.childNodes[0]).toMatchObject({ id: 3 * SPAN + 2, rootId: 3 * SPAN + 1 });
    expect(scroll).toEqual({ type: 3, timestamp: 10, data: { source: 3, id: 3 * SPAN + 1, x: 0, y: 40 } });
    expect(place.rootId).toBe(3 * SPAN + 1);
    // The input is left as it was (the same events may be read again).
    expect(snapshot.data.node.id).toBe(1);
  });

  it("moves every id an incremental event names, and keeps what is not an id", () => {
    const place: FramePlace = { slot: 1, iframeId: 5, rootId: SPAN + 1 };
    const mutation = {
      type: 3,
      timestamp: 1,
      data: {
        source: 0,
        adds: [{ parentId: 3, nextId: null, node: { type: 3, id: 9, textContent: "hi" } }],
        removes: [{ parentId: 3, id: 8 }],
        texts: [{ id: 4, value: "x" }],
        attributes: [{ id: 6, attributes: { class: "a" } }],
      },
    };
    const [moved] = placeFrameEvent(mutation, place);
    expect(moved!.data).toEqual({
      source: 0,
      adds: [{ parentId: SPAN + 3, nextId: null, node: { type: 3, id: SPAN + 9, textContent: "hi", rootId: SPAN + 1 } }],
      removes: [{ parentId: SPAN + 3, id: SPAN + 8 }],
      texts: [{ id: SPAN + 4, value: "x" }],
      attributes: [{ id: SPAN + 6, attributes: { class: "a" } }],
    });
    const input = placeFrameEvent({ type: 3, timestamp: 1, data: { source: 5, id: 12, text: "A-7", isChecked: false } }, place);
    expect(input[0]!.data).toEqual({ source: 5, id: SPAN + 12, text: "A-7", isChecked: false });
    const moves = placeFrameEvent({ type: 3, timestamp: 1, data: { source: 1, positions: [{ x: 3, y: 4, id: 7, timeOffset: -5 }] } }, place);
    expect(moves[0]!.data).toEqual({ source: 1, positions: [{ x: 3, y: 4, id: SPAN + 7, timeOffset: -5 }] });
    const adopted = placeFrameEvent({ type: 3, timestamp: 1, data: { source: 15, id: 1, styleIds: [1, 2], styles: [{ styleId: 2, rules: [] }] } }, place);
    expect(adopted[0]!.data).toEqual({ source: 15, id: SPAN + 1, styleIds: [SPAN + 1, SPAN + 2], styles: [{ styleId: SPAN + 2, rules: [] }] });
    // Unknown ids (-1) stay unknown.
    expect(placeFrameEvent({ type: 3, timestamp: 1, data: { source: 3, id: -1, x: 0, y: 0 } }, place)[0]!.data).toMatchObject({ id: -1 });
  });

  it("moves the node Glimpse's own events name (sheets, canvas, selects)", () => {
    const [moved] = placeFrameEvent({ type: 5, timestamp: 1, data: { tag: "glimpse-canvas", payload: { id: 4, dataUrl: "data:," } } }, { slot: 2, iframeId: 9 });
    expect(moved!.data).toEqual({ tag: "glimpse-canvas", payload: { id: 2 * SPAN + 4, dataUrl: "data:," } });
  });

  it("drops what describes the frame's window rather than its content", () => {
    const place: FramePlace = { slot: 1, iframeId: 5 };
    expect(placeFrameEvent({ type: 4, timestamp: 1, data: { href: "https://third.example/", width: 300, height: 60 } }, place)).toEqual([]);
    expect(placeFrameEvent({ type: 1, timestamp: 1, data: {} }, place)).toEqual([]);
    expect(placeFrameEvent({ type: 3, timestamp: 1, data: { source: 4, width: 300, height: 60 } }, place)).toEqual([]);
  });
});
