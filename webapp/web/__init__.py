"""What pages share: htmx, filters, labels, paging, form fields, uploads, error pages."""
