// The post editor's product picker: "Insert" puts the product's embed ([[product:ID]]) on a line of its own at the
// cursor in the body, then fires "input" so the preview renders the card at once.
const body = document.getElementById("f-body");

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-embed]");
  if (!button || !body) return;
  const at = body.selectionStart ?? body.value.length;
  const before = body.value.slice(0, at);
  const after = body.value.slice(at);
  const embed = `${before && !before.endsWith("\n") ? "\n\n" : ""}${button.dataset.embed}\n`;
  body.value = before + embed + after;
  body.focus();
  body.setSelectionRange(at + embed.length, at + embed.length);
  body.dispatchEvent(new Event("input", { bubbles: true }));
});
