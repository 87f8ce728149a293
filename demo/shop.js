// The demo shop's own script: a cart in localStorage, and a login that tells Glimpse who the
// visitor is through the page bridge (window.postMessage), as a real site would after login.
const CART = "glimpse-demo-cart";
const USER = "glimpse-demo-user";
const cart = () => JSON.parse(localStorage.getItem(CART) || "[]");
const user = () => JSON.parse(localStorage.getItem(USER) || "null");

function renderCount() {
  const el = document.getElementById("cart-count");
  if (el) el.textContent = String(cart().length);
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-add-to-cart]");
  if (!button) return;
  localStorage.setItem(CART, JSON.stringify([...cart(), button.dataset.addToCart]));
  renderCount();
  button.textContent = "Added ✓";
});
const list = document.getElementById("cart-items");
if (list) {
  const items = cart();
  list.innerHTML = items.length ? items.map((item) => `<li>${item.replace(/[<&>]/g, "")}</li>`).join("") : "<li>Your cart is empty.</li>";
}
renderCount();

// ── Glimpse page bridge ──
// On every page of a logged-in visitor: get a fresh signed token from "our backend" and call initVisitor.
async function initGlimpse(current) {
  const response = await fetch(`api/token?visitorId=${encodeURIComponent(current.email)}`);
  const { token } = response.ok ? await response.json() : { token: undefined };
  window.postMessage({ glimpse: 1, type: "initVisitor", visitorId: current.email, token, name: current.name }, location.origin);
}

function renderAccount() {
  const current = user();
  const link = document.getElementById("account");
  if (!link) return;
  link.textContent = current ? `Sign out (${current.email})` : "Sign in";
  link.href = current ? "#" : "login.html";
  link.onclick = current
    ? (event) => {
        event.preventDefault();
        localStorage.removeItem(USER);
        window.postMessage({ glimpse: 1, type: "logout" }, location.origin);
        renderAccount();
      }
    : null;
}

const login = document.getElementById("login");
if (login) {
  login.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = document.getElementById("email").value.trim();
    const current = { email, name: email.split("@")[0] };
    localStorage.setItem(USER, JSON.stringify(current));
    document.getElementById("login-status").textContent = `Signed in as ${email}.`;
    renderAccount();
    void initGlimpse(current);
  });
}

// Glimpse tells the page what happens (Glance's event names); this shop just shows the latest.
window.addEventListener("message", (event) => {
  if (event.source !== window || event.data?.glimpse !== 1 || !event.data.event) return;
  const line = document.getElementById("glimpse-events");
  if (line) line.textContent = `Glimpse: ${event.data.event}`;
});

renderAccount();
if (user()) void initGlimpse(user());
