"""Messages (a screen's one-time notice) are set up for the screens, not the API."""

from django.http import HttpResponse

from config.middleware import MessagesForScreens


def test_the_api_sets_no_message_storage_and_the_screens_do(rf):
    seen = {}

    def view(request):
        seen[request.path] = hasattr(request, "_messages")
        return HttpResponse()

    middleware = MessagesForScreens(view)
    for path in ("/api/v1/skus/", "/store/pickup/"):
        request = rf.get(path)
        request.session = {}
        middleware(request)
    assert seen == {"/api/v1/skus/": False, "/store/pickup/": True}
