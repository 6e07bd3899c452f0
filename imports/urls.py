"""The manager's imports screen under /store/imports/."""

urlpatterns: list = []
