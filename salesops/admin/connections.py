"""Admin for CRM connections: write-only credentials, a validated value mapping, usage,
sync state and a "Check connection" action (the same service as `manage.py connection_check`).

A stored secret never reaches a page: credential inputs are password fields that render
empty, blank keeps the stored value, and "clear" removes it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from connectors.inputs import DEFAULT_LIMITS, InputRejected, json_loads_bounded
from salesops.admin.forms import MONOSPACE, pretty_json
from salesops.admin.sync import SyncStateInline
from salesops.models import Connection
from salesops.services.connection_checks import connection_check, mapping_problems
from salesops.services.credentials import (
    CredentialsError,
    credentials_decrypt,
    credentials_update,
)

# kind -> (credential key, label, secret); non-secrets (a user name, a domain) show their value.
CREDENTIALS: dict[str, list[tuple[str, str, bool]]] = {
    "local": [("webhook_secret", "webhook secret (HMAC of the local webhook)", True)],
    "hubspot": [
        ("access_token", "private app access token", True),
        ("client_secret", "app client secret (webhook signatures)", True),
    ],
    "salesforce": [
        ("login_url", "login URL (default https://login.salesforce.com; test or My Domain)", False),
        ("consumer_key", "connected app consumer key (JWT bearer)", False),
        ("username", "integration user name (JWT bearer)", False),
        ("private_key", "private key, PEM (JWT bearer)", True),
        ("refresh_token", "refresh token (instead of JWT bearer)", True),
        ("client_id", "connected app client id (refresh token)", False),
        ("client_secret", "connected app client secret (refresh token)", True),
        ("instance_url", "instance URL (with an access token: a session, not renewed)", False),
        ("access_token", "access token", True),
        ("api_version", "API version (default 61.0)", False),
        ("outbound_secret", "Outbound Message secret (last segment of the endpoint URL)", True),
    ],
}
# Credentials that span lines (a PEM key): a text area, still rendered empty.
MULTILINE = frozenset({"private_key"})


def _field(kind: str, key: str) -> str:
    return f"{kind}__{key}"


def _clear(kind: str, key: str) -> str:
    return f"{kind}__{key}__clear"


class ConnectionForm(forms.ModelForm):
    """Connection settings; credentials are write-only and stored encrypted on save."""

    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={**MONOSPACE, "rows": 10}),
        help_text='CRM values to neutral ones, e.g. {"deal.stage": {"Closed Won": "closedwon"}}.',
    )

    class Meta:
        model = Connection
        fields = ("kind", "slug", "name", "account_id", "enabled")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The admin's fieldsets name `mapping`, so the instance's dict would land in `initial`
        # and render as a Python repr; the form shows (and parses back) JSON.
        self.initial["mapping"] = pretty_json(self.instance.mapping or {})
        try:
            self.stored = credentials_decrypt(self.instance.credentials)
            self.unreadable = ""
        except CredentialsError as exc:
            self.stored, self.unreadable = {}, str(exc)
        for kind in self.kinds():
            for key, label, secret in CREDENTIALS[kind]:
                is_set = key in self.stored
                shown = "" if secret or not is_set else f" ({self.stored[key]})"
                help_text = (f"set{shown}; blank keeps it" if is_set else "not set") + "."
                if self.unreadable:
                    help_text = "stored credentials cannot be decrypted: entering any replaces all."
                widget: forms.Widget = forms.PasswordInput() if secret else forms.TextInput()
                if key in MULTILINE:
                    widget = forms.Textarea(attrs={**MONOSPACE, "rows": 4, "autocomplete": "off"})
                self.fields[_field(kind, key)] = forms.CharField(
                    label=label, required=False, strip=True, widget=widget, help_text=help_text
                )
                if is_set:
                    self.fields[_clear(kind, key)] = forms.BooleanField(
                        label=f"clear {label}", required=False
                    )

    def kinds(self) -> list[str]:
        """The kinds whose credential fields the form shows: the connection's, or all on add."""
        return [self.instance.kind] if self.instance.pk else list(CREDENTIALS)

    def clean_mapping(self) -> dict[str, Any]:
        raw = (self.cleaned_data.get("mapping") or "").strip() or "{}"
        try:
            mapping = json_loads_bounded(raw, DEFAULT_LIMITS)
        except InputRejected as exc:
            raise forms.ValidationError(f"{exc.reason}.") from None
        problems = mapping_problems(mapping)
        if problems:
            raise forms.ValidationError(problems)
        return dict(mapping)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = self.instance.kind if self.instance.pk else data.get("kind")
        for other in self.kinds():
            if other != kind:
                for key, _label, _secret in CREDENTIALS[other]:
                    if data.get(_field(other, key)):
                        self.add_error(_field(other, key), f"This is a {other} credential.")
        return data

    def _values(self, kind: str) -> dict[str, str]:
        return {
            key: self.cleaned_data.get(_field(kind, key)) or ""
            for key, _label, _secret in CREDENTIALS.get(kind, [])
        }

    def save(self, commit: bool = True) -> Connection:
        connection: Connection = super().save(commit=False)
        connection.mapping = self.cleaned_data["mapping"]
        kind, values = connection.kind, self._values(connection.kind)
        clear = {key for key in values if self.cleaned_data.get(_clear(kind, key))}
        if not self.unreadable:
            connection.credentials = credentials_update(
                connection.credentials, values=values, clear=clear
            )
        elif any(values.values()):
            # No key opens the stored token: what is entered now replaces it whole.
            connection.credentials = credentials_update("", values=values, clear=set())
        if commit:
            connection.save()
        return connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = (
        "slug",
        "kind",
        "account_id",
        "enabled",
        "from_env",
        "calls_today_shown",
        "last_429_at",
        "daily_remaining_shown",
    )
    list_filter = ("kind", "enabled", "from_env")
    search_fields = ("slug", "name", "account_id")
    actions = ("check_connection",)
    inlines = (SyncStateInline,)
    usage = ("calls_today_shown", "last_429_at", "daily_remaining_shown", "from_env")

    def get_readonly_fields(self, request: HttpRequest, obj: Connection | None = None) -> tuple:
        if obj is None:
            return ()
        # The kind picks the connector and the credential fields: fixed once created.
        return ("kind", *self.usage, "credentials_set", "updated_at")

    def get_fieldsets(self, request: HttpRequest, obj: Connection | None = None) -> list:
        main = ("kind", "slug", "name", "account_id", "enabled")
        if not self.has_change_permission(request, obj):
            # View-only: model fields and usage; no credential inputs, only which keys are set.
            return [
                (None, {"fields": main}),
                ("Credentials", {"fields": ("credentials_set",)}),
                ("Usage", {"fields": self.usage}),
            ]
        kinds = [obj.kind] if obj else list(CREDENTIALS)
        fieldsets: list = [(None, {"fields": (*main, "mapping")})]
        form = ConnectionForm(instance=obj)
        for kind in kinds:
            names = [n for n in form.fields if n.startswith(f"{kind}__")]
            title = f"{kind} credentials (write-only; stored encrypted)"
            description = (
                "Set from environment variables: a change here is replaced at the next start."
                if obj is not None and obj.from_env
                else ""
            )
            fieldsets.append((title, {"fields": names, "description": description}))
        if obj is not None:
            fieldsets.append(("Usage", {"fields": (*self.usage, "updated_at")}))
        return fieldsets

    def get_form(
        self,
        request: HttpRequest,
        obj: Connection | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[ModelForm[Any]]:
        # The credential fields are built per instance in __init__, not found on the model.
        if "fields" in kwargs:
            kwargs["fields"] = [name for name in kwargs["fields"] or () if "__" not in name]
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="calls today", ordering="calls_today")
    def calls_today_shown(self, obj: Connection) -> int:
        return obj.calls_today if obj.calls_date == timezone.now().date() else 0

    @admin.display(description="daily remaining", ordering="daily_remaining")
    def daily_remaining_shown(self, obj: Connection) -> str:
        if obj.daily_remaining is None:
            return "-"
        return (
            f"{obj.daily_remaining} of {obj.daily_limit}"
            if obj.daily_limit
            else str(obj.daily_remaining)
        )

    @admin.display(description="credentials set")
    def credentials_set(self, obj: Connection) -> str:
        # Names only: which keys are stored, never a value.
        try:
            return ", ".join(sorted(credentials_decrypt(obj.credentials))) or "none"
        except CredentialsError as exc:
            return str(exc)

    @admin.action(description="Check connection")
    def check_connection(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        for connection in queryset:
            report = connection_check(connection)
            findings = [ln for ln in report.lines if ln.status != "ok"]
            if not findings:
                self.message_user(
                    request, f"Connection {connection.slug}: all checks pass.", messages.SUCCESS
                )
                continue
            level = messages.ERROR if report.blocking else messages.WARNING
            text = "; ".join(
                f"{ln.status} {ln.topic}: {ln.message}" + (" (blocks runs)" if ln.blocking else "")
                for ln in findings
            )
            self.message_user(request, f"Connection {connection.slug}: {text}", level)
