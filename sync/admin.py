"""Webhook subscriptions in the admin: made and changed here or through the API (the
secret is shown once, when made), its timeline and every attempt read-only beneath,
and the action a failing subscription needs: re-send from a point in time. The
outbox's changes and the sources' health are read-only (inventory.admin)."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils import timezone

from config.access import Actor
from config.errors import DomainError, InvalidInput
from config.moments import validate_moment
from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    EventKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionEvent,
)
from .services import (
    SubscriptionInput,
    webhook_resend,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)
from .services.subscriptions import check_secret

ATTEMPTS_SHOWN = 50


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = [
        "attempted_at", "event_id", "sequence", "succeeded", "status_code",
        "latency_ms", "error",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        # The latest only: a busy subscription has millions.
        latest = (
            super()
            .get_queryset(request)
            .order_by("-attempted_at", "-id")
            .values_list("id", flat=True)[:ATTEMPTS_SHOWN]
        )
        return WebhookAttempt.objects.filter(pk__in=list(latest))


class TimelineInline(ReadOnlyInline):
    model = WebhookSubscriptionEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_kinds = forms.MultipleChoiceField(
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind but network availability, which is "
        "sent only when ticked.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "channel", "url", "event_kinds", "is_active", "low_stock_threshold",
            "signature_scheme", "format", "secret",
        ]  # fmt: skip

    def clean(self):
        """A secret the subscription's scheme cannot use is refused on the form, by
        the service's own rule, rather than when saving."""
        cleaned = super().clean()
        scheme = cleaned.get("signature_scheme") or self.instance.signature_scheme
        try:
            check_secret(cleaned.get("secret") or "", scheme=scheme)
        except InvalidInput as refused:
            for message in refused.field_errors["secret"]:
                self.add_error("secret", message)
        return cleaned


class ResendForm(forms.Form):
    since = forms.DateTimeField(
        # The API's window and offsets (config.moments): beyond them PostgreSQL
        # refuses the query.
        validators=[validate_moment],
        help_text="Every SKU and location that changed since then is sent again, "
        "with its latest numbers (YYYY-MM-DD HH:MM, server time).",
    )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = [
        "channel", "url", "is_active", "state", "consecutive_failures", "retry_at",
        "last_success_at", "last_failure_at",
    ]  # fmt: skip
    list_filter = ["state", "is_active", "channel"]
    search_fields = ["url", "channel__code"]
    list_select_related = ["channel"]
    readonly_fields = [
        "state", "state_changed_at", "state_changed_by", "consecutive_failures",
        "retry_at", "last_success_at", "last_failure_at", "created_at",
        "previous_secret_expires_at",
    ]  # fmt: skip
    inlines = [TimelineInline, AttemptInline]
    actions = ["resend_from"]

    def get_readonly_fields(self, request, obj=None):
        # The channel is who the events are for: a new subscription, not an edit.
        fields = list(super().get_readonly_fields(request, obj))
        # Its signature scheme is what its receiver checks: chosen when made too.
        return [*fields, "channel", "signature_scheme"] if obj else fields

    def save_model(self, request, obj, form, change):
        actor = Actor.of_user(request.user)
        if change:
            webhook_subscription_update(
                subscription_id=obj.pk,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
                actor=actor,
            )
            return
        made = webhook_subscription_create(
            subscription=SubscriptionInput(
                channel=obj.channel,
                url=obj.url,
                event_kinds=list(obj.event_kinds),
                is_active=obj.is_active,
                secret=obj.secret,
                low_stock_threshold=obj.low_stock_threshold,
                signature_scheme=obj.signature_scheme,
                format=obj.format,
            ),
            actor=actor,
        )
        obj.pk = made.pk

    def delete_model(self, request, obj):
        webhook_subscription_delete(
            subscription_id=obj.pk, actor=Actor.of_user(request.user)
        )

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            self.delete_model(request, subscription)

    @admin.action(description="Re-send from a point in time…", permissions=["change"])
    def resend_from(self, request, queryset):
        if "apply" in request.POST:
            form = ResendForm(request.POST)
            if form.is_valid():
                for subscription in queryset:
                    try:
                        webhook_resend(
                            subscription_id=subscription.pk,
                            since=form.cleaned_data["since"],
                            actor=Actor.of_user(request.user),
                        )
                    except DomainError as refused:
                        self.message_user(request, refused.message, messages.ERROR)
                        return None
                self.message_user(
                    request,
                    f"{queryset.count()} subscription(s) will be sent every change "
                    f"since {form.cleaned_data['since']:%Y-%m-%d %H:%M}.",
                )
                return None
        else:
            form = ResendForm(initial={"since": timezone.now() - timedelta(days=1)})
        return render(
            request,
            "admin/sync/resend.html",
            {
                **self.admin_site.each_context(request),
                "title": "Re-send from a point in time",
                "subscriptions": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "subscription", "sku", "location", "change", "network_change",
        "status", "attempts", "created_at", "delivered_at",
    ]  # fmt: skip
    list_filter = ["status", "subscription"]
    search_fields = ["sku__code", "location__code"]
    list_select_related = ["subscription__channel", "sku", "location"]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "attempted_at", "subscription", "event_id", "sequence", "succeeded",
        "status_code", "latency_ms", "error",
    ]  # fmt: skip
    list_filter = ["succeeded", "subscription"]
    search_fields = ["event_id", "error"]
    list_select_related = ["subscription__channel"]
