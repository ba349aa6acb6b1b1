// Show every <time data-local-time> in the reader's own time zone (the server writes UTC).
const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function localizeTimes(root = document) {
  for (const node of root.querySelectorAll("time[data-local-time]")) {
    const when = Date.parse(node.getAttribute("datetime"));
    if (!Number.isNaN(when)) node.textContent = format.format(new Date(when));
  }
}

localizeTimes();
