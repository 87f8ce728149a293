/** Styles inside the shadow root: `all: initial` on the host stops the page's CSS from leaking in. */
export const STYLES = `
:host { all: initial; }
.root { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; }
button { font: inherit; cursor: pointer; border: 0; border-radius: 999px; padding: 10px 16px; font-weight: 600; }
button:focus-visible { outline: 3px solid #7cc4ff; outline-offset: 2px; }
.share { background: #0b57d0; color: #fff; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
.share:disabled, .share[data-guard=obscured] { background: #8a94a6; cursor: default; }
[aria-disabled=true] { cursor: default; }
.panel { background: #fff; border-radius: 12px; box-shadow: 0 4px 20px rgba(0,0,0,.25); padding: 14px 16px; width: 260px; }
.panel h2 { margin: 0 0 6px; font-size: 15px; }
.panel .control { border: 2px solid #e07a00; border-radius: 8px; padding: 8px 10px; margin: 8px 0; background: #fff7ec; }
.panel .control .row { margin-top: 6px; }
.key { display: block; font: 700 28px/1.2 ui-monospace, "SF Mono", Menlo, monospace; letter-spacing: 2px; margin: 6px 0 8px; color: #0b57d0; }
.muted { color: #5b6475; font-size: 13px; margin: 4px 0; }
.viewing { color: #0b6e4f; font-weight: 600; margin: 4px 0 10px; }
.viewing::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #12b76a; margin-right: 6px; }
.stop { background: #d92d20; color: #fff; width: 100%; border-radius: 8px; margin-top: 6px; }
.notice { background: #fff; border-radius: 12px; box-shadow: 0 4px 20px rgba(0,0,0,.25); padding: 12px 14px; width: 260px; }
.notice .row { display: flex; gap: 8px; justify-content: flex-end; margin-top: 8px; }
.plain { background: #eef1f6; color: #1d2433; border-radius: 8px; padding: 6px 12px; }
.wide { width: 100%; margin-top: 6px; }
.backdrop { position: fixed; inset: 0; background: rgba(15,23,42,.55); display: grid; place-items: center; z-index: 2147483647; }
.dialog { background: #fff; color: #1d2433; border-radius: 14px; padding: 20px 22px; max-width: 420px; margin: 16px; box-shadow: 0 10px 40px rgba(0,0,0,.4); font-size: 15px; }
.dialog h2 { margin: 0 0 8px; font-size: 18px; }
.warning { color: #b42318; font-size: 14px; margin: 8px 0; }
.terms-frame { position: fixed; inset: 0; width: 100vw; height: 100vh; border: 0; margin: 0; padding: 0; background: transparent; color-scheme: normal; z-index: 2147483647; }
.dialog .row { display: flex; gap: 10px; justify-content: flex-end; margin-top: 14px; }
`;
