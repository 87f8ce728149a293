/**
 * Remote control on the visitor's side: runs the consent machine (src/visitor/control.ts) and
 * carries out its effects. Memory only: a restarted background has no control, and says so to an
 * agent whose action arrives (the machine answers "revoked").
 */
import type { ControlAction, VisitorToServer } from "~src/protocol";
import { controlTransition, SUSPEND_MS, type ControlEvent, type ControlView } from "~src/visitor/control";

export interface RemoteControlDeps {
  send: (message: VisitorToServer) => void;
  /** Do an action on the shared page. */
  apply: (action: ControlAction) => void;
  /** Hear (or stop hearing) the visitor's own input on the shared page. */
  watch: (on: boolean) => void;
  changed: () => void;
}

export class RemoteControl {
  private state: ControlView = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: RemoteControlDeps) {}

  get view(): ControlView {
    return this.state;
  }

  /** Whether control is on (granted or suspended): only then does a suspension timer run. */
  private get watching(): boolean {
    return this.state?.state === "granted" || this.state?.state === "suspended";
  }

  dispatch(event: ControlEvent): void {
    const before = this.state;
    const { state, effects } = controlTransition(before, event);
    this.state = state;
    if (!this.watching && this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    for (const effect of effects) {
      switch (effect.type) {
        case "send":
          this.deps.send({ t: "controlState", state: effect.state });
          break;
        case "apply":
          this.deps.apply(effect.action);
          break;
        case "watch":
          this.deps.watch(effect.on);
          break;
        case "idleTimer":
          if (this.idleTimer) clearTimeout(this.idleTimer);
          this.idleTimer = setTimeout(() => {
            this.idleTimer = null;
            this.dispatch({ type: "idle" });
          }, SUSPEND_MS);
          break;
      }
    }
    if (before?.agent !== state?.agent || before?.state !== state?.state) this.deps.changed();
  }
}
