/**
 * What rrweb's isolated-world recorder misses, re-read from the DOM when the MAIN-world script
 * (contents/capture/main-world.ts) says a node changed: CSSOM rules, adopted sheets, form state set
 * by script, canvas pictures. The notification only names a node; everything sent is read here,
 * and masked here, so a page that forges notifications gains nothing.
 */
import { record } from "rrweb";
import { isInMaskedBlock, isSensitiveField, MASK_ATTRIBUTE, MASKED_VALUE, maskValue, scrubMaskedAttributes, type MaskRules } from "./masking";
import { ADOPTED_EVENT, CANVAS_EVENT, CHANGE_EVENT, diffRules, SELECT_EVENT, SHEET_EVENT, VIDEO_EVENT, type AdoptedChange, type CanvasChange, type SelectChange, type SheetChange } from "./page-events";
import { absolute, mapCssUrls } from "./urls";

/** rrweb's incremental Input event (type 3, source 5). */
export interface InputEvent {
  type: 3;
  data: { source: 5; id: number; text: string; isChecked: boolean };
  timestamp: number;
}

export interface PageStateOptions {
  rules: MaskRules;
  /** Queue an event as if rrweb had emitted it. */
  push: (event: InputEvent) => void;
  /** Batching of notifications: a burst of insertRule calls becomes one change. */
  flushMs?: number;
  /** At most one picture per canvas per this interval. */
  canvasMs?: number;
  /** While a video plays, its current frame at this interval. */
  videoMs?: number;
}

const MAX_CANVAS_URL = 4 * 1024 * 1024;
/** Video frames are sent at most this wide (JPEG): enough to tell what plays, a few KB each. */
const VIDEO_FRAME_WIDTH = 640;

export class PageState {
  private readonly sheets = new Map<Element, string[]>();
  private readonly dirty = new Set<Node>();
  private readonly dirtyCanvases = new Set<HTMLCanvasElement>();
  private readonly canvasSent = new WeakMap<HTMLCanvasElement, string>();
  private readonly playing = new Set<HTMLVideoElement>();
  private readonly videoSent = new WeakMap<HTMLVideoElement, string>();
  private videoTimer: ReturnType<typeof setInterval> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private canvasTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly options: PageStateOptions) {}

  start(): void {
    const options = { capture: true, signal: this.abort.signal };
    window.addEventListener(CHANGE_EVENT, (event) => this.onChange(event), options);
    // rrweb reports a select by its value alone: a multiple select's other choices come from here.
    const onSelect = (event: Event) => {
      const target = event.composedPath()[0];
      if (target instanceof HTMLSelectElement && target.multiple) this.onChange(event);
    };
    window.addEventListener("change", onSelect, options);
    window.addEventListener("input", onSelect, options);
    // Media events do not bubble; a capturing listener on the window still hears them.
    const onMedia = (event: Event) => {
      const video = event.composedPath()[0];
      if (video instanceof HTMLVideoElement) this.onVideo(video, event.type);
    };
    for (const type of ["play", "playing", "pause", "seeked", "loadeddata", "emptied"]) window.addEventListener(type, onMedia, options);
    for (const video of document.querySelectorAll("video")) if (!video.paused) this.onVideo(video, "play");
  }

  stop(): void {
    this.abort.abort();
    if (this.videoTimer) clearInterval(this.videoTimer);
    if (this.timer) clearTimeout(this.timer);
    if (this.canvasTimer) clearTimeout(this.canvasTimer);
  }

  /** A full snapshot was taken: sheets start again from what it holds; canvases are sent whole. */
  afterSnapshot(): void {
    this.sheets.clear();
    for (const canvas of document.querySelectorAll("canvas")) this.dirtyCanvases.add(canvas);
    this.scheduleCanvases(0);
    // After the snapshot's emit returns: rrweb takes custom events only once it is recording.
    setTimeout(() => {
      for (const video of document.querySelectorAll("video")) {
        this.videoSent.delete(video);
        this.video(video);
      }
    }, 0);
  }

  /**
   * A video's frame is what the agent cannot load when the source is a stream (MSE, a camera,
   * WebRTC) or too big to carry: one on every pause, seek or load, and at an interval while it plays.
   */
  private onVideo(video: HTMLVideoElement, type: string): void {
    if (type === "play" || type === "playing") this.playing.add(video);
    else if (type === "pause" || type === "emptied") this.playing.delete(video);
    if (this.playing.size > 0) {
      this.videoTimer ??= setInterval(() => {
        for (const playing of this.playing) {
          if (playing.isConnected && !playing.paused) this.video(playing);
          else this.playing.delete(playing);
        }
        if (this.playing.size === 0 && this.videoTimer) {
          clearInterval(this.videoTimer);
          this.videoTimer = null;
        }
      }, this.options.videoMs ?? 2000);
    }
    if (type !== "play" && type !== "emptied") this.video(video);
  }

  private video(video: HTMLVideoElement): void {
    const id = record.mirror.getId(video);
    if (id < 0 || video.readyState < 2 || !video.videoWidth || !video.videoHeight) return;
    if (isSensitiveField(video, this.options.rules)) return; // inside a masked element
    const scale = Math.min(1, VIDEO_FRAME_WIDTH / video.videoWidth);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    let dataUrl: string;
    try {
      canvas.getContext("2d")?.drawImage(video, 0, 0, canvas.width, canvas.height);
      dataUrl = canvas.toDataURL("image/jpeg", 0.8);
    } catch {
      return; // a cross-origin video without CORS: the page itself cannot read its pixels either
    }
    if (dataUrl.length > MAX_CANVAS_URL || this.videoSent.get(video) === dataUrl) return;
    record.addCustomEvent<CanvasChange>(VIDEO_EVENT, { id, dataUrl });
    this.videoSent.set(video, dataUrl);
  }

  private onChange(event: Event): void {
    const target = event.composedPath()[0];
    if (!(target instanceof Node)) return;
    if (target instanceof HTMLCanvasElement) {
      this.dirtyCanvases.add(target);
      return this.scheduleCanvases(this.options.canvasMs ?? 500);
    }
    this.dirty.add(target);
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 50);
  }

  private flush(): void {
    this.timer = null;
    const nodes = [...this.dirty];
    this.dirty.clear();
    for (const node of nodes) {
      try {
        if (node instanceof HTMLStyleElement || node instanceof HTMLLinkElement) this.sheet(node);
        else if (node instanceof Document || node instanceof ShadowRoot) this.adopted(node);
        else if (node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement) this.field(node);
        else if (node instanceof HTMLOptionElement && node.parentElement) this.field(node.closest("select") ?? node.parentElement);
      } catch {
        // one odd node must not stop the others
      }
    }
  }

  private sheet(owner: HTMLStyleElement | HTMLLinkElement): void {
    const id = record.mirror.getId(owner);
    if (id < 0 || !owner.sheet) return;
    const rules = rulesOf(owner.sheet);
    if (!rules) return;
    const before = this.sheets.get(owner);
    this.sheets.set(owner, rules);
    const change = before ? diffRules(before, rules) : { index: 0, remove: -1, rules };
    if (change) record.addCustomEvent<SheetChange>(SHEET_EVENT, { id, ...change });
  }

  private adopted(root: Document | ShadowRoot): void {
    const node = root instanceof ShadowRoot ? root.host : root;
    const id = record.mirror.getId(node);
    if (id < 0) return;
    const sheets = [...(root.adoptedStyleSheets ?? [])].map((sheet) => rulesOf(sheet) ?? []);
    record.addCustomEvent<AdoptedChange>(ADOPTED_EVENT, { id, shadow: root instanceof ShadowRoot, sheets });
  }

  private field(element: Element): void {
    const id = record.mirror.getId(element);
    if (id < 0) return;
    const { rules } = this.options;
    if (element instanceof HTMLSelectElement && element.multiple) {
      if (isSensitiveField(element, rules)) return;
      const selected = [...element.options].flatMap((option, index) => (option.selected ? [index] : []));
      return void record.addCustomEvent<SelectChange>(SELECT_EVENT, { id, selected });
    }
    if (!(element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement)) return;
    const type = element instanceof HTMLInputElement ? element.type : "";
    const checkable = type === "radio" || type === "checkbox";
    const text = checkable ? element.value : maskValue(element.value, element, rules);
    this.options.push({ type: 3, data: { source: 5, id, text, isChecked: checkable ? (element as HTMLInputElement).checked : false }, timestamp: Date.now() });
  }

  private scheduleCanvases(delay: number): void {
    this.canvasTimer ??= setTimeout(() => {
      this.canvasTimer = null;
      const canvases = [...this.dirtyCanvases];
      this.dirtyCanvases.clear();
      for (const canvas of canvases) this.canvas(canvas);
    }, delay);
  }

  private canvas(canvas: HTMLCanvasElement): void {
    const id = record.mirror.getId(canvas);
    if (id < 0 || !canvas.width || !canvas.height) return;
    if (isSensitiveField(canvas, this.options.rules)) return; // inside a masked element
    let dataUrl: string;
    try {
      dataUrl = canvas.toDataURL("image/png");
    } catch {
      return; // tainted by a cross-origin image: the page itself cannot read it either
    }
    if (dataUrl.length > MAX_CANVAS_URL || this.canvasSent.get(canvas) === dataUrl) return;
    record.addCustomEvent<CanvasChange>(CANVAS_EVENT, { id, dataUrl });
    this.canvasSent.set(canvas, dataUrl);
  }
}

/** A sheet's rules as text, with url()s made absolute; null when the sheet is cross-origin. */
function rulesOf(sheet: CSSStyleSheet): string[] | null {
  let list: CSSRuleList;
  try {
    list = sheet.cssRules;
  } catch {
    return null;
  }
  const base = sheet.href ?? document.baseURI;
  return [...list].map((rule) => mapCssUrls(rule.cssText, (url) => absolute(url, base) ?? url));
}

interface SerializedNode {
  type: number;
  id: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
}

/** Attributes that make the agent's side load a resource (and the extension carry it). */
const RESOURCE_ATTRIBUTES = ["src", "srcset", "poster", "background", "href", "xlink:href", "data"];
const RESOURCE_TAGS = new Set(["img", "source", "video", "audio", "image", "use", "input", "picture", "object", "embed", "track", "feImage"]);

/**
 * Resources inside a masked element are not sent: no URL (it may name the secret: an avatar, a
 * scanned cheque) and so nothing for the extension to carry. Only elements that can load something
 * are tested, so a large snapshot pays for its images, not for every node.
 */
export function stripMaskedResources(tag: string, attributes: Record<string, unknown>, live: Element | null, rules: MaskRules): void {
  const style = typeof attributes.style === "string" && attributes.style.includes("url(");
  if (!RESOURCE_TAGS.has(tag) && !style) return;
  // isSensitiveField covers [data-glimpse-mask] and site-rule selectors on the element or an ancestor.
  if (!live || !isSensitiveField(live, rules)) return;
  for (const name of RESOURCE_ATTRIBUTES) delete attributes[name];
  if (style) attributes.style = (attributes.style as string).replace(/url\([^)]*\)/g, "none");
}

/** rrweb's media state attributes: with them the replayer would try to play. */
const MEDIA_STATE = ["autoplay", "rr_mediaState", "rr_mediaCurrentTime", "rr_mediaPlaybackRate", "rr_mediaMuted", "rr_mediaLoop", "rr_mediaVolume"];

/**
 * Audio and video are not played for the agent: a media file is rarely under the carry cap, a
 * stream (MSE, camera, call) has no address at all, and a replayed element that tries to play
 * logs errors in the agent's console. The agent sees the poster, then the current frame
 * (PageState sends it as the poster). So no media address leaves the page, and nothing to carry.
 */
function stripMedia(live: Node, attributes: Record<string, unknown>): void {
  if (live instanceof HTMLMediaElement) {
    delete attributes.src;
    for (const name of MEDIA_STATE) delete attributes[name];
  } else if ((live instanceof HTMLSourceElement || live instanceof HTMLTrackElement) && live.parentElement instanceof HTMLMediaElement) {
    delete attributes.src;
  }
}

/**
 * Puts the live form state into serialised nodes, where rrweb keeps the HTML defaults: the checked
 * radio (not the one marked `checked` in the HTML), selected options (rrweb drops `selected` when
 * selects are masked), and makes `poster` absolute (rrweb leaves it relative). Masked selects keep
 * no selection, masked elements keep no resource URLs, and media no source (stripMedia).
 */
export function fixSerialized(node: SerializedNode, rules: MaskRules, masked = false): void {
  let inMasked = masked;
  if (node.type === 3 && masked && !node.isStyle && node.textContent?.trim()) node.textContent = MASKED_VALUE;
  if (node.type === 2 && node.attributes) {
    const tag = node.tagName ?? "";
    const attributes = node.attributes;
    // The replayed page is sandboxed: an autofocus there only logs a warning in the agent's console.
    if ("autofocus" in attributes) delete attributes.autofocus;
    const resource = RESOURCE_TAGS.has(tag) || (typeof attributes.style === "string" && attributes.style.includes("url("));
    // Only these few kinds of element are looked up; a large snapshot does not pay per node.
    const live = tag === "option" || resource ? record.mirror.getNode(node.id) : null;
    if (live) {
      if (live instanceof HTMLInputElement && (live.type === "radio" || live.type === "checkbox")) {
        if (live.checked) attributes.checked = true;
        else delete attributes.checked;
      } else if (live instanceof HTMLOptionElement) {
        const select = live.closest("select");
        if (live.selected && !(select && isSensitiveField(select, rules))) attributes.selected = true;
        else delete attributes.selected;
      } else if (live instanceof HTMLVideoElement && typeof attributes.poster === "string" && attributes.poster) {
        attributes.poster = absolute(attributes.poster, document.baseURI) ?? attributes.poster;
      }
      stripMedia(live, attributes);
    }
    if (resource) stripMaskedResources(tag, attributes, live as Element | null, rules);
    // Masking goes down the tree, shadow roots included; site-rule selectors need the live element.
    inMasked ||= MASK_ATTRIBUTE in attributes || (rules.selectors.length > 0 && matchesRule(node.id, rules));
    if (inMasked) scrubMaskedAttributes(tag, attributes);
  }
  for (const child of node.childNodes ?? []) fixSerialized(child, rules, inMasked);
}

function matchesRule(id: number, rules: MaskRules): boolean {
  const live = record.mirror.getNode(id);
  return live instanceof Element && rules.selectors.some((selector) => {
    try {
      return live.matches(selector);
    } catch {
      return false;
    }
  });
}

/** Whether nodes added under this (live) parent are masked: the parent, or a shadow root's host, is in a masked block. */
export function addedUnderMask(parentId: number, rules: MaskRules): boolean {
  const parent = record.mirror.getNode(parentId);
  const element = parent instanceof Element ? parent : parent instanceof ShadowRoot ? parent.host : null;
  return element !== null && isInMaskedBlock(element, rules);
}

/** Text changes inside a masked block (rrweb's own text masking does not look through shadow roots). */
export function fixTextChanges(changes: { id: number; value: string | null }[], rules: MaskRules): void {
  for (const change of changes) {
    if (!change.value?.trim()) continue;
    const parent = record.mirror.getNode(change.id)?.parentElement;
    if (parent && isInMaskedBlock(parent, rules)) change.value = MASKED_VALUE;
  }
}

/** The same for attribute changes (a masked image whose src changes later). */
export function fixAttributeChanges(changes: { id: number; attributes: Record<string, unknown> }[], rules: MaskRules): void {
  for (const change of changes) {
    const live = record.mirror.getNode(change.id);
    if (live instanceof Element && isSensitiveField(live, rules)) {
      // A masked element: structure only. A field once a password keeps its value masked after a type switch.
      if (isInMaskedBlock(live, rules)) scrubMaskedAttributes(live.localName, change.attributes);
      else if (typeof change.attributes.value === "string" && change.attributes.value) change.attributes.value = MASKED_VALUE;
    }
    if (!RESOURCE_ATTRIBUTES.some((name) => name in change.attributes) && !(typeof change.attributes.style === "string" && change.attributes.style.includes("url("))) continue;
    if (live instanceof Element) stripMaskedResources(live.localName, change.attributes, live, rules);
    if (live) stripMedia(live, change.attributes);
  }
}
