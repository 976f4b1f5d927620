# Only the names Carnet uses.
from weasyprint.urls import URLFetcher

class HTML:
    def __init__(
        self,
        *,
        string: str | None = ...,
        base_url: str | None = ...,
        url_fetcher: URLFetcher | None = ...,
    ) -> None: ...
    def write_pdf(self) -> bytes: ...
