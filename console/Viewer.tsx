/** The live view: rrweb's replayer in live mode, scaled to fit the stage. */
import { useEffect, useRef } from "preact/hooks";
import { Replayer } from "rrweb";
import type { eventWithTime } from "@rrweb/types";
import { mapEventUrls } from "~src/capture/urls";
import { applyPageEvent } from "./page-events";

export interface ViewerHandle {
  add(events: unknown[]): void;
}

/**
 * `sessionKey` scopes the carried assets: every resource URL of the replayed page is mapped to the
 * session's asset endpoint, so the agent's browser asks only this server (the console's CSP
 * enforces it).
 */
export function Viewer({ register, overlay, sessionKey }: { register: (handle: ViewerHandle | null) => void; overlay: string | null; sessionKey: string }) {
  const stage = useRef<HTMLDivElement>(null);
  const screen = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const root = screen.current!;
    const replayer = new Replayer([], {
      root,
      liveMode: true,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      // The replayed page runs no script, and a browser then forces media controls onto every
      // video: the visitor's page shows them only where its markup asks for them.
      insertStyleRules: ["video:not([controls])::-webkit-media-controls { display: none !important; }"],
    });
    // Events are stamped with the agent's clock on arrival: the visitor's clock may be off, and
    // replaying "now" keeps the view as close to live as the network allows.
    replayer.startLive(Date.now());
    // A new page is rebuilt into the same document, whose constructed sheets would outlive the
    // page that adopted them (its own adopted sheets arrive after the snapshot).
    replayer.on("fullsnapshot-rebuilded", () => {
      const doc = replayer.iframe.contentDocument;
      if (doc && doc.adoptedStyleSheets.length > 0) doc.adoptedStyleSheets = [];
    });
    replayer.on("custom-event", (event) => {
      const data = (event as { data?: { tag?: string; payload?: unknown } }).data;
      if (data?.tag) applyPageEvent(replayer, data.tag, data.payload);
    });
    const assets = `${location.origin}/api/sessions/${encodeURIComponent(sessionKey)}/assets?u=`;
    const toAsset = (url: string) => assets + encodeURIComponent(url);
    let size = { width: 0, height: 0 };
    const fit = () => {
      const box = stage.current!.getBoundingClientRect();
      if (!size.width || !size.height) return;
      const scale = Math.min(box.width / size.width, box.height / size.height, 1);
      root.style.transform = `scale(${scale})`;
      // Whole pixels: a fractional offset blurs every replayed pixel.
      root.style.left = `${Math.round(Math.max(0, (box.width - size.width * scale) / 2))}px`;
    };
    replayer.on("resize", (dimension) => {
      size = dimension as { width: number; height: number };
      fit();
    });
    const observer = new ResizeObserver(fit);
    observer.observe(stage.current!);
    register({
      add(events) {
        for (const event of events) replayer.addEvent(mapEventUrls({ ...(event as eventWithTime), timestamp: Date.now() }, toAsset));
      },
    });
    return () => {
      register(null);
      observer.disconnect();
      replayer.destroy();
    };
  }, []);

  return (
    <div class="stage" ref={stage}>
      <div class="screen" ref={screen} data-testid="agent-view" />
      {overlay && <div class="overlay" role="status">{overlay}</div>}
    </div>
  );
}
