import { useEffect, useRef, useState } from "preact/hooks";
import { GuardedButton } from "./GuardedButton";
import { t } from "./t";

export interface TermsProps {
  agent: string;
  groupName: string;
  onAnswer: (accepted: boolean) => void;
}

/**
 * The one-click consent dialog, drawn inside the extension's own frame (terms.html): the page can
 * neither read, relabel nor restyle it. Keyboard-usable with focus kept inside; Escape declines.
 * Focus starts on Decline so a stray Enter never shares the screen. Accept is guarded: it does not
 * act while the page covers or alters the dialog, nor in the moment it appears.
 */
export function Terms({ agent, groupName, onAnswer }: TermsProps) {
  const dialog = useRef<HTMLDivElement>(null);
  const decline = useRef<HTMLButtonElement>(null);
  const [obscured, setObscured] = useState(false);
  useEffect(() => decline.current?.focus(), []);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && event.isTrusted) return onAnswer(false);
    if (event.key !== "Tab") return;
    event.preventDefault();
    const buttons = [...dialog.current!.querySelectorAll("button")];
    const next = buttons[(buttons.indexOf(event.target as HTMLButtonElement) + 1) % buttons.length];
    next?.focus();
  };
  return (
    <div class="backdrop">
      <div ref={dialog} class="dialog" role="dialog" aria-modal="true" aria-labelledby="glimpse-terms-title" aria-describedby="glimpse-terms-text" onKeyDown={onKeyDown}>
        <h2 id="glimpse-terms-title">{t("termsTitle")}</h2>
        <p id="glimpse-terms-text">
          {groupName ? t("termsAsksFrom", { agent, group: groupName }) : t("termsAsks", { agent })} {t("termsDetails")}
        </p>
        {obscured && <p class="warning" role="alert">{t("termsObscured")}</p>}
        <div class="row">
          <button ref={decline} class="plain" onClick={(event) => event.isTrusted && onAnswer(false)}>{t("decline")}</button>
          <GuardedButton class="share" onPress={() => onAnswer(true)} onObscured={setObscured}>{t("accept")}</GuardedButton>
        </div>
      </div>
    </div>
  );
}
