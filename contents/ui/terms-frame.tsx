/**
 * terms.html: the consent dialog in an extension-origin frame, as password managers draw their
 * fills. The page script only places the frame; what it shows (who asks) comes from the background
 * and the answer goes straight back to it, so nothing the page can touch carries the request or
 * the visitor's answer.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Responses } from "~src/messages";
import { request } from "./ext";
import { STYLES } from "./styles";
import { Terms } from "./Terms";

type Shown = NonNullable<Responses["termsShown"]["request"]>;

function TermsFrame() {
  const [shown, setShown] = useState<Shown | null>(null);
  useEffect(() => {
    void request({ type: "termsShown" }).then(({ request: current }) => {
      if (!current) return;
      setShown(current);
      // "displayed" once the dialog is painted (a background tab paints when the visitor looks).
      requestAnimationFrame(() => setTimeout(() => void request({ type: "termsAnswer", id: current.id, status: "displayed" }), 0));
    });
  }, []);
  if (!shown) return null;
  const answer = (accepted: boolean) => {
    setShown(null);
    void request({ type: "termsAnswer", id: shown.id, status: accepted ? "accepted" : "declined" });
  };
  return <Terms agent={shown.agent} groupName={shown.groupName} onAnswer={answer} />;
}

const style = document.createElement("style");
style.textContent = `${STYLES}\nhtml, body { margin: 0; background: transparent; }`;
document.head.append(style);
render(<TermsFrame />, document.body);
