// Copy buttons: <button data-copy="FIELD-ID"> puts that field's value on the clipboard and says so in its
// [data-copy-label] part (or its whole text). Where the clipboard is out of reach (plain http, or permission
// refused) the field is selected instead, for the person to copy.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  const field = button && document.getElementById(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
    (button.querySelector("[data-copy-label]") ?? button).textContent = "Copied";
  } catch {
    field.focus();
    field.select();
  }
});
