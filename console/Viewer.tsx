/** The live view: rrweb's replayer in live mode, scaled to fit the stage. */
import { useEffect, useRef } from "preact/hooks";
import { Replayer } from "rrweb";
import type { eventWithTime } from "@rrweb/types";

export interface ViewerHandle {
  add(events: unknown[]): void;
}

export function Viewer({ register, overlay }: { register: (handle: ViewerHandle | null) => void; overlay: string | null }) {
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
      insertStyleRules: [],
    });
    // Events are stamped with the agent's clock on arrival: the visitor's clock may be off, and
    // replaying "now" keeps the view as close to live as the network allows.
    replayer.startLive(Date.now());
    let size = { width: 0, height: 0 };
    const fit = () => {
      const box = stage.current!.getBoundingClientRect();
      if (!size.width || !size.height) return;
      const scale = Math.min(box.width / size.width, box.height / size.height, 1);
      root.style.transform = `scale(${scale})`;
      root.style.left = `${Math.max(0, (box.width - size.width * scale) / 2)}px`;
    };
    replayer.on("resize", (dimension) => {
      size = dimension as { width: number; height: number };
      fit();
    });
    const observer = new ResizeObserver(fit);
    observer.observe(stage.current!);
    register({
      add(events) {
        for (const event of events) replayer.addEvent({ ...(event as eventWithTime), timestamp: Date.now() });
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
