from rest_framework.response import Response
from rest_framework.views import APIView


class FloorView(APIView):
    """The framework floor: a DRF view that touches no database."""

    def get(self, request):
        return Response({"ok": True})
