// Tiny cart kept in localStorage, shared by the demo pages.
const CART = "glimpse-demo-cart";
const cart = () => JSON.parse(localStorage.getItem(CART) || "[]");
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
