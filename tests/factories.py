import uuid
from decimal import Decimal

import factory

from accounting.models import AccountType
from accounting.services import account_create
from organizations.services import organization_create


class OrganizationFactory(factory.Factory):
    """Organizations are created through the service, as in production."""

    class Meta:
        model = dict

    inn = factory.Sequence(lambda n: f"{7700000000 + n:010d}")
    name = factory.Sequence(lambda n: f"Organization {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return organization_create(**kwargs)


class AccountFactory(factory.Factory):
    class Meta:
        model = dict

    code = factory.Sequence(lambda n: f"90.{n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    type = AccountType.INCOME

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return account_create(**kwargs)


class WebhookPayloadFactory(factory.DictFactory):
    """A bank webhook body as the bank sends it."""

    operation_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    amount = Decimal("1000.00")
    payer_inn = "1234567890"
    document_number = factory.Sequence(lambda n: f"PAY-{n}")
    document_date = "2024-04-27T21:00:00Z"
