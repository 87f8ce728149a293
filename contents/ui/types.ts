import type { InitStatus, SessionView } from "~src/messages";

/** What the page script hands the UI bundle to draw. */
export interface UiProps {
  session: SessionView;
  init: InitStatus;
  /** This tab is the one being shared. */
  thisTab: boolean;
  /** The site draws its own Share button and status from the bridge events. */
  customUi: boolean;
  /** The share request to ask about: the consent frame is placed (and re-placed for a new id). */
  terms: string | null;
  onRetryInit: () => void;
}

/** The UI bundle (ui.js) registers itself here, in the extension's isolated world of the page. */
export interface UiBundle {
  draw(props: UiProps): void;
  remove(): void;
}

export const UI_GLOBAL = "__glimpseUi";
