import { useEffect, useRef } from "preact/hooks";

export interface TermsProps {
  agent: string;
  groupName: string;
  onAnswer: (accepted: boolean) => void;
}

/**
 * The one-click consent dialog. Keyboard-usable with focus kept inside; Escape declines.
 * Focus starts on Decline so a stray Enter never shares the screen.
 */
export function Terms({ agent, groupName, onAnswer }: TermsProps) {
  const decline = useRef<HTMLButtonElement>(null);
  const accept = useRef<HTMLButtonElement>(null);
  useEffect(() => decline.current?.focus(), []);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") return onAnswer(false);
    if (event.key !== "Tab") return;
    event.preventDefault();
    const next = event.composedPath()[0] === decline.current ? accept : decline;
    next.current?.focus();
  };
  return (
    <div class="backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="glimpse-terms-title" aria-describedby="glimpse-terms-text" onKeyDown={onKeyDown}>
        <h2 id="glimpse-terms-title">Screen share request</h2>
        <p id="glimpse-terms-text">
          <strong>{agent}</strong>{groupName ? ` from ${groupName}` : ""} asks to see this tab to help you. They will see this site
          only, while you share; passwords and payment details stay hidden. You can stop at any time.
        </p>
        <div class="row">
          <button ref={decline} class="plain" onClick={() => onAnswer(false)}>Decline</button>
          <button ref={accept} class="share" onClick={() => onAnswer(true)}>Accept</button>
        </div>
      </div>
    </div>
  );
}
