from django.core.validators import RegexValidator
from django.db import models

from organizations.inn import INN_FORMAT_MESSAGE, INN_PATTERN, inn_checksum_valid


class Organization(models.Model):
    inn = models.CharField(
        "INN",
        max_length=12,
        unique=True,
        validators=[RegexValidator(INN_PATTERN, INN_FORMAT_MESSAGE)],
    )
    name = models.CharField(max_length=255)
    account = models.OneToOneField(
        "accounting.Account", on_delete=models.PROTECT, related_name="organization"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(inn__regex=r"^([0-9]{10}|[0-9]{12})$"), name="inn_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (INN {self.inn})"

    @property
    def inn_checksum_valid(self) -> bool:
        return inn_checksum_valid(self.inn)
