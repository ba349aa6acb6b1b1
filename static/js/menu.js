// The header's account menu is a <details>: it opens and closes without script. This adds what people expect of a
// menu: Escape closes it (focus back on its button), and so does a click anywhere outside it.
const menu = document.querySelector("details.user-menu");
if (menu) {
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
}
