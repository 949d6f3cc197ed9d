from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorView(APIView):
    """The framework floor: a DRF view that touches no database."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})
