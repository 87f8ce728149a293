import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { guard, type Guard, type GuardState } from "./guard";

export interface GuardedButtonProps {
  class: string;
  onPress: () => void;
  /** Told when the page covers or alters the button, and when that ends. */
  onObscured?: (obscured: boolean) => void;
  children: ComponentChildren;
}

/**
 * A button whose press starts something for the visitor (Share screen, Accept). It is
 * aria-disabled until the guard arms it (./guard), so what the visitor sees matches what a click does.
 */
export function GuardedButton({ class: className, onPress, onObscured, children }: GuardedButtonProps) {
  const button = useRef<HTMLButtonElement>(null);
  const watch = useRef<Guard | null>(null);
  const [state, setState] = useState<GuardState>("arming");
  useEffect(() => {
    watch.current = guard(button.current!, (next) => {
      setState(next);
      onObscured?.(next === "obscured");
    });
    return () => watch.current?.stop();
  }, []);
  return (
    <button
      ref={button}
      class={className}
      aria-disabled={state === "armed" ? undefined : "true"}
      data-guard={state}
      onClick={(event) => watch.current?.allows(event) && onPress()}
    >
      {children}
    </button>
  );
}
