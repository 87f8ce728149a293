import { useEffect, useRef } from "preact/hooks";
import { trusted } from "./trusted";
import { t } from "./t";

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
    if (event.key === "Escape" && event.isTrusted) return onAnswer(false);
    if (event.key !== "Tab") return;
    event.preventDefault();
    const next = event.composedPath()[0] === decline.current ? accept : decline;
    next.current?.focus();
  };
  return (
    <div class="backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="glimpse-terms-title" aria-describedby="glimpse-terms-text" onKeyDown={onKeyDown}>
        <h2 id="glimpse-terms-title">{t("termsTitle")}</h2>
        <p id="glimpse-terms-text">
          {groupName ? t("termsAsksFrom", { agent, group: groupName }) : t("termsAsks", { agent })} {t("termsDetails")}
        </p>
        <div class="row">
          <button ref={decline} class="plain" onClick={trusted(() => onAnswer(false))}>{t("decline")}</button>
          <button ref={accept} class="share" onClick={trusted(() => onAnswer(true))}>{t("accept")}</button>
        </div>
      </div>
    </div>
  );
}
