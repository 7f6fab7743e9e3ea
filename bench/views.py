from django.http import HttpResponse
from django.template import engines

# A minimal page through the same middleware and context processors as every signed-in page: what any page
# costs before it does its own work. The yardstick of the throughput ratios.
BARE = engines["django"].from_string("<!doctype html><title>bare</title><p>{{ request.user.full_name }}</p>")


def bare(request):
    return HttpResponse(BARE.render({}, request))
