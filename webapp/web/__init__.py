"""The request layer every page shares: sign-in guards and hooks, htmx, filters, labels,
paging, form fields, uploads, error pages."""
