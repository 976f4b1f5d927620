"""Browser journeys: Playwright drives Debian's Chromium against a live Carnet."""
