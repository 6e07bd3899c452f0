"""Every factory of the test suite, in one place."""

import factory

from catalog.models import Channel, Product, Sku
from integrations.models import ApiToken
from integrations.services import api_token_create
from inventory.models import Location


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"PRD-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Article {n}")
    product = factory.SubFactory(ProductFactory)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.Sequence(lambda n: f"Channel {n}")
    kind = Channel.Kind.WEB


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"STORE-{n:03d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = Location.Kind.STORE
    time_zone = "Europe/London"


class ApiTokenFactory:
    """Tokens go through the service, because only it knows how to hash them."""

    @staticmethod
    def issue(*, name: str, channel_code: str | None = None) -> tuple[ApiToken, str]:
        return api_token_create(name=name, channel_code=channel_code)
