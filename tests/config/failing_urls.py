"""The app's URLs and one view that fails as a bug would: for the error reports."""

from django.urls import path

from config.urls import handler500, urlpatterns  # noqa: F401 (Django reads handler500)


def stock_take_totals(request):
    raise ZeroDivisionError("a count of nothing divided")


urlpatterns = [path("store/totals/", stock_take_totals), *urlpatterns]
