"""Patient search terms kept out of URLs, written once.

A name, NHS number, date of birth or reference typed into a search box would, in a GET query string, land in
access logs, proxy logs, browser history and the Referer header. So a list page's filter form POSTs (with
its CSRF token); `search_redirect` keeps the search text in the user's session under an opaque, random,
expiring id and redirects to the page with only that id and the filters that are not patient data (state,
category, sort, the page's cursor) in the query string. Back, refresh and pagination keep working through the id;
`search_filters` gives the page its filters back, the text included, for the form to validate. A search id
is good only in the session of the user who searched, until it expires; otherwise the page says so and
shows the list unsearched.
"""

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect, QueryDict

from hjp.core.pagination import CURSOR_PARAMS

SEARCH_PARAM = "search"
SESSION_KEY = "hjp_searches"
# The most a session keeps: the oldest go first.
SEARCHES_KEPT = 20
EXPIRED_MESSAGE = "That search has expired. Search again."


def search_redirect(request: HttpRequest, *, text_field: str = "q") -> HttpResponseRedirect:
    """For a filter form sent by POST: keep its `text_field` in the session and redirect to the same page with
    the other fields and the search's id in the query string (no search id when the text is blank)."""
    params = request.POST.copy()
    for name in ("csrfmiddlewaretoken", SEARCH_PARAM, *CURSOR_PARAMS):
        params.pop(name, None)
    text = (params.pop(text_field, None) or [""])[-1].strip()
    if text:
        params[SEARCH_PARAM] = _store(request, text)
    query = params.urlencode()
    return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)


def search_filters(request: HttpRequest, *, text_field: str = "q") -> QueryDict | None:
    """The page's filters from its query string, with the search text put back from the session under
    `text_field` (never taken from the URL); None when there are none, as for an unbound form."""
    params = request.GET.copy()
    params.pop(text_field, None)
    for name in CURSOR_PARAMS:
        params.pop(name, None)
    search_id = params.pop(SEARCH_PARAM, None)
    if search_id:
        text = _load(request, search_id[-1])
        if text is None:
            messages.warning(request, EXPIRED_MESSAGE)
        else:
            params[text_field] = text
    return params or None


def page_query(request: HttpRequest, *, text_field: str = "q") -> str:
    """The query string the page's own links (pagination) carry: its filters and search id, never a text."""
    params = request.GET.copy()
    for name in (text_field, *CURSOR_PARAMS):
        params.pop(name, None)
    return params.urlencode()


def _store(request: HttpRequest, text: str) -> str:
    now = time.time()
    searches = {
        key: entry
        for key, entry in request.session.get(SESSION_KEY, {}).items()
        if entry["user"] == request.user.pk and now - entry["at"] < _lifetime()
    }
    search_id = secrets.token_urlsafe(16)
    searches[search_id] = {"user": request.user.pk, "at": now, "text": text}
    newest = sorted(searches.items(), key=lambda item: item[1]["at"])[-SEARCHES_KEPT:]
    request.session[SESSION_KEY] = dict(newest)
    return search_id


def _load(request: HttpRequest, search_id: str) -> str | None:
    entry = request.session.get(SESSION_KEY, {}).get(search_id)
    if not entry or entry["user"] != request.user.pk or time.time() - entry["at"] >= _lifetime():
        return None
    return entry["text"]


def _lifetime() -> int:
    """As long as a session may stay idle (SESSION_IDLE_SECONDS): a results page left open still pages."""
    return settings.SESSION_COOKIE_AGE
