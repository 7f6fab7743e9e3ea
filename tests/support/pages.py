"""What a user sees on pages the tests fetch."""

import re


def looks_missing(response) -> bool:
    """The page a user gets for something that does not exist, or that is not theirs: the two look the same."""
    return response.status_code == 404 and "Page not found" in response.content.decode()


def without_nonces(response) -> str:
    """The page's HTML without the per-response CSP nonces and form tokens, to compare two pages."""
    return re.sub(r'(nonce|value)="[^"]*"', "", response.content.decode())


def listed(client, response) -> list:
    """Every row of a list page (hjp.core.pagination): its own and those of the pages after it, reached through
    each page's "Next" link, as a user would."""
    rows = list(response.context["page"].object_list)
    while next_href := response.context["page"].next_href:
        response = client.get(response.wsgi_request.path + next_href)
        assert response.status_code == 200
        rows += response.context["page"].object_list
    return rows
