"""A fast serializer (config.fast_serializers) answers exactly as DRF's own
Serializer does with the same declared fields: the same representation, the same
validated data, the same error bodies; only quicker, for what is plainly well formed."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import RegexValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.serializers import Serializer, ValidationError, as_serializer_error

from config.api import (
    CodeField,
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.fast_serializers import FastListSerializer, FastSerializer
from inventory.models import (
    Reservation,
    ReservationLine,
    ReservationTransition,
    StockMovement,
)
from inventory.reservation_serializers import (
    ReservationInputSerializer,
    ReservationSerializer,
)
from inventory.selectors import reservation_queryset
from inventory.serializers import MovementSerializer
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

# -- what a serializer writes ---------------------------------------------------------


class Part(serializers.Serializer):
    number = serializers.IntegerField()
    label = serializers.CharField(allow_null=True)


class Everything(FastSerializer, serializers.Serializer):
    """A field of every kind the compiler knows, and some it does not."""

    name = serializers.CharField()
    count = serializers.IntegerField()
    big = serializers.BigIntegerField()
    flag = serializers.BooleanField()
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    level = serializers.ChoiceField(choices=[(1, "one"), (2, "two")])
    at = serializers.DateTimeField()
    maybe_at = serializers.DateTimeField(allow_null=True)
    day = serializers.DateField()  # not compiled: the field's own
    price = serializers.DecimalField(max_digits=6, decimal_places=2)  # likewise
    owner = serializers.CharField(source="owner.code")
    other = serializers.CharField(source="other.code", allow_null=True, default=None)
    optional = serializers.CharField(source="nowhere", required=False)
    # Through a None: left out, or the default.
    maybe = serializers.CharField(source="maybe.code", required=False)
    fallback = serializers.CharField(source="maybe.code", default="nobody")
    described = serializers.CharField(source="describe")  # a method
    lookup = serializers.CharField(source="missing_record", allow_null=True)
    part = Part(source="*")
    parts = Part(many=True)
    greeting = serializers.SerializerMethodField()  # reads the context
    secret = serializers.CharField(write_only=True)

    def get_greeting(self, thing) -> str:
        name = thing["name"] if isinstance(thing, dict) else thing.name
        return f"{self.context.get('greeting', 'hello')} {name}"


class Thing(SimpleNamespace):
    def describe(self):
        return f"{self.name} ×{self.count}"

    @property
    def missing_record(self):
        raise ObjectDoesNotExist


def thing(**overrides):
    fields = {
        "name": "tee",
        "count": 3,
        "big": 2**40,
        "flag": True,
        "kind": "a",
        "level": 2,
        "at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        "maybe_at": None,
        "day": date(2026, 11, 23),
        "price": Decimal("9.50"),
        "owner": SimpleNamespace(code="LON-OXF"),
        "other": None,
        "maybe": None,
        "number": 7,
        "label": None,
        "parts": [SimpleNamespace(number=1, label="x"), {"number": 2, "label": "y"}],
    }
    return Thing(**{**fields, **overrides})


THINGS = [
    thing(),
    thing(other=SimpleNamespace(code="WH-DAV"), maybe_at=timezone.now()),
    thing(name=5, count="4", flag=1, kind="c", level="1", label=0),
    thing(at=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.get_fixed_timezone(60))),
    thing(at=datetime(2026, 11, 23, 9, 30)),  # naive: DRF makes it aware
    thing(at="2026-11-23 as text", flag="yes", kind="", count=True),
    thing(optional="here", nowhere="here", maybe=SimpleNamespace(code="M")),
]


def drf_representation(serializer, instance):
    """DRF's own Serializer.to_representation, for the same declared fields."""
    return Serializer.to_representation(serializer, instance)


@pytest.mark.parametrize("instance", THINGS)
@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "America/New_York"])
def test_every_kind_of_field_is_written_as_drf_writes_it(instance, zone):
    with timezone.override(zone):
        context = {"greeting": "hi"}
        fast = Everything(instance, context=context).data
        assert fast == drf_representation(Everything(context=context), instance)


def test_an_object_read_by_key_is_written_as_drf_writes_it():
    as_mapping = {**vars(thing()), "describe": "by key", "missing_record": None}
    assert Everything(as_mapping).data == drf_representation(Everything(), as_mapping)


def test_a_list_is_written_item_by_item_as_drf_writes_it():
    listed = Everything(THINGS, many=True)
    assert isinstance(listed, FastListSerializer)
    assert listed.data == [drf_representation(Everything(), item) for item in THINGS]


def test_a_missing_attribute_is_drfs_error():
    broken = thing()
    del broken.owner
    with pytest.raises(AttributeError) as fast:
        Everything(broken).data  # noqa: B018
    with pytest.raises(AttributeError) as plain:
        drf_representation(Everything(), broken)
    assert str(fast.value) == str(plain.value)


def test_a_class_naming_its_own_list_serializer_keeps_it():
    class Listed(serializers.ListSerializer):
        pass

    class Named(FastSerializer, serializers.Serializer):
        name = serializers.CharField()

        class Meta:
            list_serializer_class = Listed

    assert type(Named([], many=True)) is Listed
    assert type(Everything([], many=True)) is FastListSerializer


def entry(**overrides):
    channel = SimpleNamespace(pk=1, code="pos")
    fields = {
        "id": 41,
        "channel": channel,
        "reference": "SALE-1",
        "type": "sale",
        "sku": SimpleNamespace(code="TEE-BLK-M"),
        "location": SimpleNamespace(code="LON-OXF"),
        "other_location": None,
        "quantity": 2,
        "reason": "",
        "occurred_at": timezone.now() - timedelta(minutes=5),
        "recorded_at": timezone.now(),
        "status": StockMovement.Status.APPLIED,
        "status_reason": "",
        "actor": "token:till",
    }
    fields.update(
        {f"{bucket}_delta": 0 for bucket in ("committed", "picked", "reserved")}
        | {
            f"{bucket}_delta": -2
            for bucket in ("on_hand", "damaged", "quality_control", "in_transit")
        }
        | {"incoming_delta": 0, "other_location_in_transit_delta": 0}
    )
    return SimpleNamespace(**{**fields, **overrides})


@pytest.mark.parametrize(
    "instance",
    [
        entry(),
        entry(type="transfer_out", other_location=SimpleNamespace(code="WH-DAV")),
        entry(status=StockMovement.Status.REJECTED, status_reason="Only 0 unit(s)."),
        entry(reason="lost — sorry \u2028", occurred_at=timezone.now().astimezone()),
    ],
)
def test_a_ledger_entry_is_written_as_drf_writes_it(instance):
    serializer = MovementSerializer(instance)
    assert serializer.data == drf_representation(MovementSerializer(), instance)
    # Every field is of a type the compiler knows: the serializer never built (deep
    # copied) its own fields.
    assert "fields" not in vars(serializer)


@pytest.mark.django_db
def test_a_hold_is_written_as_drf_writes_it():
    channel = ChannelFactory(code="web", kind="web")
    store, tee, hoodie = LocationFactory(code="LON-OXF"), SkuFactory(), SkuFactory()
    now = timezone.now()
    hold = Reservation.objects.create(
        channel=channel,
        reference="CART-1",
        status=Reservation.Status.COMMITTED,
        ttl_seconds=900,
        expires_at=now + timedelta(seconds=900),
        created_by="token:web",
        payload_digest="0" * 64,
    )
    for sku, quantity in ((tee, 2), (hoodie, 1)):
        ReservationLine.objects.create(
            reservation=hold, sku=sku, location=store, quantity=quantity
        )
    for before, after in (("", "active"), ("active", "committed")):
        ReservationTransition.objects.create(
            reservation=hold, from_status=before, to_status=after, actor="x", at=now
        )
    lapsed = Reservation.objects.create(
        channel=channel,
        reference="CART-2",
        status=Reservation.Status.ACTIVE,
        ttl_seconds=60,
        expires_at=now - timedelta(seconds=1),
        created_by="token:web",
        payload_digest="1" * 64,
    )
    read = list(reservation_queryset().order_by("reference"))
    expected = [drf_representation(ReservationSerializer(), r) for r in read]
    rendered = [ReservationSerializer(r) for r in read]
    assert [serializer.data for serializer in rendered] == expected
    assert not any("fields" in vars(serializer) for serializer in rendered)
    assert ReservationSerializer(read, many=True).data == expected
    assert expected[0]["status"] == "committed" and len(expected[0]["lines"]) == 2
    assert expected[1]["status"] == "expired"  # current_status(), a method
    assert lapsed.pk == expected[1]["id"]


# -- what a serializer accepts --------------------------------------------------------


class Line(StrictInputSerializer):
    sku = CodeField()
    quantity = StrictIntegerField(min_value=1, max_value=10)

    def validate_quantity(self, quantity):
        if quantity == 7:
            raise ValidationError("Not seven.")
        return quantity


class Order(FastSerializer, StrictInputSerializer):
    reference = StrictCharField(
        max_length=10, trim_whitespace=False, validators=[RegexValidator(r"^[A-Z]")]
    )
    note = serializers.CharField(max_length=20, required=False, allow_blank=True)
    text = serializers.CharField(required=False)  # DRF turns 5 into "5"
    count = serializers.IntegerField(min_value=0, required=False)  # and "5" into 5
    strict_count = StrictIntegerField(required=False, allow_null=True)
    flag = StrictBooleanField(required=False)
    loose_flag = serializers.BooleanField(required=False)
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)
    blank_kind = serializers.ChoiceField(
        choices=["a"], allow_blank=True, required=False
    )
    defaulted = StrictIntegerField(required=False, default=3)
    price = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    lines = Line(many=True, allow_empty=False, max_length=3)
    # A query's repeated codes (?sku=A&sku=B), as GET /api/v1/availability/ has them.
    codes = serializers.ListField(child=CodeField(), required=False, max_length=3)
    counts = serializers.ListField(
        child=StrictIntegerField(min_value=0), required=False, allow_empty=False
    )

    def validate_reference(self, reference):
        if reference.startswith("X"):
            raise ValidationError("Not X.")
        return self.context.get("prefix", "") + reference

    def validate(self, attrs):
        if attrs.get("count") == 13:
            raise ValidationError({"count": ["Unlucky."]})
        if attrs.get("note") == "non-field":
            raise ValidationError("Refused as a whole.")
        return attrs


def order(**overrides):
    return {"reference": "A-1", "lines": [{"sku": "TEE", "quantity": 1}], **overrides}


def line(**overrides):
    return {"sku": "TEE", "quantity": 2, **overrides}


PLAIN_ORDERS = [
    order(),
    order(note="  padded  ", text="t", count=0, strict_count=None, flag=False),
    order(loose_flag=True, kind="b", blank_kind="", defaulted=9, note=""),
    order(lines=[line(), line(sku="A.b_c-9", quantity=10), line(quantity=1)]),
    order(reference="Z" * 10, note="é ß 😀"),
    order(codes=[], counts=[0, 3]),
    order(codes=["TEE", "A.b_c-9", "TEE"], counts=[1]),
]
UNUSUAL_ORDERS = [
    None, [], "order", {}, order(reference=None), order(lines=None),
    order(reference="a-1"), order(reference="X-1"), order(reference="A" * 11),
    order(reference=""), order(reference=" A"), order(reference=7),
    order(note="a\x00b"), order(note="\ud800"), order(note="   "), order(note="x" * 21),
    order(text=5), order(text=""), order(text="  "), order(text=True),
    order(count="5"), order(count=-1), order(count=13), order(count=True),
    order(count=2.0), order(count=10**700), order(strict_count="5"),
    order(flag=1), order(flag="true"), order(loose_flag="yes"), order(loose_flag=1),
    order(kind="c"), order(kind=""), order(kind=None), order(blank_kind="b"),
    order(defaulted=None), order(price="1.5"), order(price=1.5), order(price="1.555"),
    order(note="non-field"), order(colour="red"),
    order(lines=[]), order(lines={"sku": "TEE"}), order(lines=[line()] * 4),
    order(lines=["TEE"]), order(lines=[line(quantity=7)]), order(lines=[line(x=1)]),
    order(lines=[line(sku="-TEE")]), order(lines=[line(sku="TEE\n")]),
    order(lines=[{"sku": "TEE"}]), order(lines=[line(quantity=0), line(quantity=11)]),
    order(codes="TEE"), order(codes=["TEE", None]), order(codes=["-TEE"]),
    order(codes=["TEE\n"]), order(codes=["T"] * 4), order(codes=[5]),
    order(codes={"a": 1}), order(codes=None), order(counts=[]), order(counts=[-1]),
    order(counts=["1"]), order(counts=[True]),
]  # fmt: skip


def outcome(run_validation, data):
    """The validated data, or the error body."""
    try:
        return run_validation(data)
    except ValidationError as error:
        return as_serializer_error(error)


def drf_outcome(serializer, data):
    """DRF's own run_validation, as the serializer would run without its check."""
    return outcome(lambda data: Serializer.run_validation(serializer, data), data)


@pytest.fixture
def through_drf(monkeypatch):
    """Every object DRF's own run_validation was given."""
    seen = []
    run_validation = Serializer.run_validation

    def counted(serializer, data=serializers.empty):
        seen.append(data)
        return run_validation(serializer, data)

    monkeypatch.setattr(Serializer, "run_validation", counted)
    return seen


@pytest.mark.parametrize("data", PLAIN_ORDERS + UNUSUAL_ORDERS)
def test_an_order_is_accepted_or_refused_as_drf_would(data):
    context = {"prefix": "shop/"}
    fast = outcome(Order(context=context).run_validation, data)
    assert fast == drf_outcome(Order(context=context), data)


@pytest.mark.parametrize("data", PLAIN_ORDERS)
def test_a_plain_order_is_checked_without_drf(data, through_drf):
    serializer = Order(data=data, context={"prefix": "shop/"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["reference"].startswith("shop/")
    assert through_drf == []


def test_a_list_of_codes_is_checked_without_drf(monkeypatch):
    def refuse(*args):
        raise AssertionError("DRF's ListField was asked")

    monkeypatch.setattr(serializers.ListField, "to_internal_value", refuse)
    serializer = Order(data=order(codes=["TEE", "HOOD"], counts=[2]))
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["codes"] == ["TEE", "HOOD"]


def test_is_valid_answers_drf_s_errors(through_drf):
    refused = Order(data=order(count="5", note="a\x00b", lines=[line(quantity=7)]))
    assert not refused.is_valid()
    assert refused.errors == {
        "note": ["Null characters are not allowed."],
        "lines": {0: {"quantity": ["Not seven."]}},
    }
    assert through_drf[0] is refused.initial_data


def test_a_partial_update_is_drfs_to_check(through_drf):
    partial = Order(data={"note": "just this"}, partial=True)
    assert partial.is_valid(), partial.errors
    assert partial.validated_data == {"note": "just this"}
    assert len(through_drf) == 1


def test_a_serializer_that_ignores_unknown_fields_still_ignores_them():
    class Loose(FastSerializer, serializers.Serializer):
        number = serializers.IntegerField()

    assert Loose().run_validation({"number": 1, "other": 2}) == {"number": 1}


def cart(reference="CART-1", quantity=1, sku="TEE-BLK-M", **extra):
    return {
        "reference": reference,
        "lines": [{"sku": sku, "location": "LON-OXF", "quantity": quantity}],
        **extra,
    }


PLAIN_CARTS = [
    cart("CART-1"),
    cart("CART-2", 3, channel="web", ttl_seconds=600),
    {"reference": "~!odd-but-printable", "lines": [
        {"sku": "A", "location": "B.1_x-y", "quantity": 1},
        {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1_000_000},
    ]},
]  # fmt: skip
UNUSUAL_CARTS = [
    None, [], "cart", {},
    {"reference": "C"},
    {"lines": [{"sku": "A", "location": "B", "quantity": 1}]},
    cart("has space"), cart(""), cart("x" * 101), cart(12), cart("C", 0), cart("C", -1),
    cart("C", True), cart("C", 1.0), cart("C", "1"), cart("C", 10**12),
    cart("C", sku="-starts-with-dash"), cart("C", sku="A\n"), cart("C", sku="é"),
    cart("C", sku="x" * 65), cart("C", sku=None), cart("C", sku="A\x00"),
    cart("C", channel=""), cart("C", channel=None), cart("C", ttl_seconds=0),
    cart("C", ttl_seconds=10**9), cart("C", ttl_seconds="60"), cart("C", ttl_seconds=None),
    cart("C", surprise=1),
    {"reference": "C", "lines": []},
    {"reference": "C", "lines": {"sku": "A"}},
    {"reference": "C", "lines": [{"sku": "A", "location": "B"}]},
    {"reference": "C", "lines": [{"sku": "A", "location": "B", "quantity": 1, "x": 1}]},
    {"reference": "C", "lines": [{"sku": "A", "location": "B", "quantity": 1}] * 201},
]  # fmt: skip


@pytest.mark.parametrize("data", PLAIN_CARTS + UNUSUAL_CARTS)
def test_a_cart_is_accepted_or_refused_as_drf_would(data):
    fast = outcome(ReservationInputSerializer().run_validation, data)
    assert fast == drf_outcome(ReservationInputSerializer(), data)


def test_a_plain_cart_is_checked_without_drf(through_drf):
    for data in PLAIN_CARTS:
        given = ReservationInputSerializer(data=data)
        given.is_valid(raise_exception=True)
        assert given.validated_data == data
        # Every field is of a type the check knows: the serializer never built (deep
        # copied) its own fields.
        assert "fields" not in vars(given)
    assert through_drf == []
