/**
 * The demo's big page (demo/big.html, 20,000 rows) changing while an agent joins, and a digest of
 * its rows to compare the visitor's page with the agent's view. Strings: evaluated in the page
 * (Playwright or Puppeteer) and in the agent's replayed document alike.
 */

/** Starts changing rows all over every 2 ms (rows the walk has passed, has not reached, is about to reach); `clearInterval(window.churn)` stops it. */
export const CHURN_ROWS = `(() => {
  const rows = document.getElementById("rows");
  let n = 0;
  window.churn = setInterval(() => {
    n++;
    const added = document.createElement("div");
    added.className = "row";
    added.id = "added-" + n;
    added.textContent = "Added " + n;
    rows.insertBefore(added, rows.children[(n * 7919) % rows.children.length]);
    rows.children[(n * 104729) % rows.children.length].remove();
    rows.prepend(rows.children[rows.children.length - 1 - (n % 50)]);
    const rewritten = rows.children[(n * 15485863) % rows.children.length];
    rewritten.firstChild.data = "Rewritten " + n;
    rewritten.setAttribute("data-n", String(n));
  }, 2);
})()`;

/** A function body of `doc`: the rows' count and a hash of their ids, `data-n` and text, in order. */
export const ROWS_DIGEST = `const rows = [...doc.getElementById("rows").children].map((r) => r.id + "|" + (r.getAttribute("data-n") ?? "") + "|" + r.textContent);
  let h = 0; for (const s of rows) for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return rows.length + ":" + h;`;
