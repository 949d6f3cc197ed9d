from django.urls import include, path

from bench.views import FloorView

urlpatterns = [
    path("bench/floor/", FloorView.as_view(), name="bench-floor"),
    path("", include("settings.urls")),
]
