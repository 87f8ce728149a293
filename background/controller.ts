/**
 * Runs the visitor state machine: one event at a time, persist every transition, then carry out
 * its effects and tell the UIs. Assumes the background can die at any moment (start() rehydrates).
 */
import type { GlimpseError } from "~src/errors";
import { glimpseError } from "~src/errors";
import type { SessionView } from "~src/messages";
import { transition, type Effect, type VisitorEvent, type VisitorState } from "~src/visitor/machine";
import type { Identity } from "~src/identity";
import type { ControlView } from "~src/visitor/control";
import type { Capture } from "./capture";
import type { ServerConnection } from "./connection";

export interface ControllerDeps {
  load: () => Promise<VisitorState>;
  save: (state: VisitorState) => Promise<void>;
  connection: () => ServerConnection;
  /** The visitor identity linked to a site, for one-click sessions. */
  identity: (site: string) => Promise<(Identity & { ticket?: string }) | null>;
  capture: Capture;
  history: {
    start: (entry: { sessionKey: string; keyType: "random" | "visitor"; site: string; startedAt: number }) => Promise<void>;
    end: (sessionKey: string, at: number, reason: NonNullable<SessionView["lastEnded"]>["reason"], agents: string[]) => Promise<void>;
  };
  broadcast: (view: SessionView) => void;
  /** Who controls the page, or asks to (background/control.ts). */
  control: () => ControlView;
}

export class Controller {
  private state: VisitorState = { status: "idle", lastEnded: null };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ControllerDeps) {}

  /** Rehydrate after a (re)start of the background and pick up a live session by itself. */
  async start(): Promise<void> {
    await this.enqueue(async () => {
      this.state = await this.deps.load();
      if (this.state.status === "starting") {
        // The start was cut off before the server answered; nothing was shared yet.
        this.state = { status: "idle", lastEnded: null };
        await this.deps.save(this.state);
      } else if (this.state.status === "live") {
        this.state = { ...this.state, connection: "reconnecting" };
        await this.deps.save(this.state);
        void this.deps.connection().open({ sessionKey: this.state.sessionKey, token: this.state.resumeToken });
        void this.deps.capture.inject(this.state.tabId);
      }
    });
  }

  /** Resolves once every queued event (and the rehydration) has been applied. */
  async settled(): Promise<void> {
    await this.queue;
  }

  get current(): VisitorState {
    return this.state;
  }

  /** Apply one event; resolves with the error when the machine rejected it. */
  dispatch(event: VisitorEvent): Promise<GlimpseError | null> {
    return this.enqueue(async () => {
      const { state, effects } = transition(this.state, event);
      const changed = state !== this.state;
      this.state = state;
      if (changed) await this.deps.save(state);
      let rejected: GlimpseError | null = null;
      for (const effect of effects) {
        if (effect.type === "rejected") rejected = glimpseError(effect.code);
        else this.run(effect);
      }
      if (changed) this.deps.broadcast(this.view());
      return rejected;
    });
  }

  view(): SessionView {
    const s = this.state;
    if (s.status === "idle") {
      return {
        status: "idle",
        tabId: s.lastEnded?.tabId ?? null,
        keyType: null,
        sessionKey: null,
        guests: 0,
        agents: [],
        connection: null,
        lastEnded: s.lastEnded,
        marksHidden: this.deps.capture.marksHidden,
        paused: false,
        control: null,
      };
    }
    if (s.status === "starting") {
      return { status: "starting", tabId: s.tabId, keyType: s.keyType, sessionKey: null, guests: 0, agents: [], connection: null, lastEnded: null, marksHidden: this.deps.capture.marksHidden, paused: false, control: null };
    }
    return {
      status: "live",
      tabId: s.tabId,
      keyType: s.keyType,
      // One-click sessions are keyed by the visitor ID, which the visitor never needs to read out.
      sessionKey: s.keyType === "random" ? s.sessionKey : null,
      guests: s.guests.count,
      agents: s.guests.agents,
      connection: s.connection,
      lastEnded: null,
      marksHidden: this.deps.capture.marksHidden,
      paused: s.paused === true,
      control: this.deps.control(),
    };
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private run(effect: Exclude<Effect, { type: "rejected" }>): void {
    const { connection, capture, history } = this.deps;
    // Effects are isolated: one failing (a closed tab, a full disk) must not stop the others.
    const guard = (promise: Promise<unknown>) => promise.catch((error) => console.warn("glimpse: effect failed", effect.type, error));
    switch (effect.type) {
      case "connect":
        return void guard(
          (effect.keyType === "visitor" ? this.deps.identity(effect.site) : Promise.resolve(null)).then((identity) =>
            connection().open(null, identity),
          ),
        );
      case "reconnect":
        return connection().reconnect(effect.resume);
      case "disconnect":
        return connection().close();
      case "send":
        return connection().send(effect.message);
      case "startCapture":
        return void guard(capture.inject(effect.tabId));
      case "stopCapture":
        return capture.stop(effect.tabId);
      case "requestSnapshot":
        return capture.requestSnapshot(effect.tabId);
      case "historyStart":
        return void guard(history.start({ sessionKey: effect.sessionKey, keyType: effect.keyType, site: effect.site, startedAt: effect.at }));
      case "historyEnd":
        return void guard(history.end(effect.sessionKey, effect.at, effect.reason, effect.agents));
    }
  }
}

