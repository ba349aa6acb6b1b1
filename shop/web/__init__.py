"""Shop's HTTP edge: the JSON controllers, the HTML pages and htmx fragments, forms and rendering."""
