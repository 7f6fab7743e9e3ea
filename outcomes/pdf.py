"""HTML to PDF with WeasyPrint, offline: the document may load nothing from the network or the disk (every
picture it holds is inline SVG, its style inline), so a URL in a name can fetch nothing."""


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document, fetching nothing but data: URLs."""
    # Imported here: loading WeasyPrint parses its stylesheets (about a second), which no other page should pay.
    from weasyprint import HTML, URLFetcher

    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
