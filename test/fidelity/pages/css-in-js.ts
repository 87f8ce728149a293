/** A small app styled with emotion (production build: rules are inserted with insertRule). */
import { css, injectGlobal } from "@emotion/css";

const themes = {
  light: { bg: "#f7f7fb", card: "#ffffff", text: "#1d1d35", accent: "#5b3cc4" },
  dark: { bg: "#16161f", card: "#262637", text: "#ececf4", accent: "#ffb84d" },
};
let theme: keyof typeof themes = "light";
let cards = ["Plan: Basic", "Invoices", "Support"];

injectGlobal({ body: { margin: 0, font: '16px/1.4 "DejaVu Sans", sans-serif' } });

function render(): void {
  const t = themes[theme];
  const page = css`background: ${t.bg}; color: ${t.text}; min-height: 100vh; padding: 24px; box-sizing: border-box;`;
  const grid = css`display: grid; grid-template-columns: repeat(3, 220px); gap: 16px;`;
  const card = css`background: ${t.card}; border-radius: 12px; padding: 16px; box-shadow: 0 2px 8px rgba(0,0,0,.2); border-left: 6px solid ${t.accent};`;
  const button = css`background: ${t.accent}; color: ${t.bg}; border: 0; border-radius: 8px; padding: 10px 16px; font-size: 16px; margin-right: 8px;`;
  const input = css`font-size: 16px; padding: 8px; border: 2px solid ${t.accent}; border-radius: 6px; width: 260px;`;
  const app = document.getElementById("app")!;
  const value = (document.getElementById("todo") as HTMLInputElement | null)?.value ?? "";
  app.className = page;
  app.innerHTML = `
    <h1 class="${css`margin: 0 0 16px; font-size: 28px; color: ${t.accent};`}">Account (${theme})</h1>
    <p><button id="theme" class="${button}">Toggle theme</button><button id="add" class="${button}">Add card</button></p>
    <p><input id="todo" class="${input}" placeholder="New card, then Enter"></p>
    <div class="${grid}">${cards.map((c) => `<div class="${card}">${c}</div>`).join("")}</div>`;
  (document.getElementById("todo") as HTMLInputElement).value = value;
  document.getElementById("theme")!.onclick = () => ((theme = theme === "light" ? "dark" : "light"), render());
  document.getElementById("add")!.onclick = () => ((cards = [...cards, `Card ${cards.length + 1}`]), render());
  document.getElementById("todo")!.onkeydown = (event) => {
    if (event.key !== "Enter") return;
    const field = event.target as HTMLInputElement;
    cards = [...cards, field.value];
    field.value = ""; // cleared by script, as React/Lit apps do after Enter
    render();
  };
}
render();
