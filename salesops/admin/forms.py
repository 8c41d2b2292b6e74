"""Admin forms: each one validates input, then calls exactly one service in `clean()`.

Services are atomic and raise before storing anything, and the admin wraps the whole request in
a transaction, so calling the service during validation lets its errors land on the form fields
instead of turning into a 500 after the form was declared valid.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar, cast

from django import forms
from django.utils.html import format_html

from connectors.inputs import DEFAULT_LIMITS, InputRejected, json_loads_bounded
from salesops.models import Escalation, Fragment, Sop, SopVersion
from salesops.services.escalations import (
    EscalationError,
    escalation_approve,
    escalation_overridable_checks,
    escalation_reject,
)
from salesops.services.evals import evals_held_message, evals_publish_gated
from salesops.services.result_form import ResultForm
from salesops.services.sops import fragment_update, sop_spec_get, sop_version_create
from salesops.specs import sop_text_normalize
from salesops.specs.document import sop_text_check
from salesops.specs.model import SpecError

MONOSPACE = {
    "style": "font-family: monospace; width: 100%; max-width: 110ch;",
    "spellcheck": "false",
}

_FormT = TypeVar("_FormT", bound=forms.BaseForm)


def pretty_json(value: Any) -> str:
    """JSON as a reviewer reads it: indented, unicode kept."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def json_block(value: Any) -> str:
    """Pretty JSON in a wrapping <pre>, for read-only admin fields."""
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', pretty_json(value))


def with_user(form: type[_FormT], user: Any) -> type[_FormT]:
    """The admin builds forms itself; a subclass carries the request's user to the service."""
    return cast("type[_FormT]", type(form.__name__, (form,), {"user": user}))


def _bounded_text(text: str, *, source: str) -> str:
    """SOP or fragment text within the SOP loader's bounds, normalised; else inline errors."""
    try:
        sop_text_check(text, source=source)
    except SpecError as exc:
        raise forms.ValidationError([str(issue) for issue in exc.issues]) from None
    # Browsers submit textareas with CRLF; stored text and diffs use the normalised form.
    return sop_text_normalize(text)


class SopForm(forms.ModelForm):
    """Edit an SOP's text: each save goes through `sop_version_create` (a new version)."""

    text = forms.CharField(widget=forms.Textarea(attrs={**MONOSPACE, "rows": 40}), strip=False)
    publish = forms.BooleanField(
        required=False, help_text="Make this version the one new runs use. Unchecked: a draft."
    )
    publish_fewer_evals = forms.BooleanField(
        required=False,
        label="Publish even if fewer eval cases pass",
        help_text="Recorded with your name and both versions' eval figures.",
    )

    class Meta:
        model = Sop
        fields = ("name",)

    user: Any = None  # set per request by `with_user`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version: SopVersion | None = None
        self.created = False
        if self.instance.pk:
            latest = self.instance.versions.order_by("-number").first()
            if latest is not None:
                self.fields["text"].initial = sop_text_normalize(latest.text)
        if "name" in self.fields:
            self.fields["name"].help_text = "Must match `name:` in the front matter."

    def clean_text(self) -> str:
        return _bounded_text(self.cleaned_data["text"], source="the SOP")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if Sop.objects.filter(name=name).exists():
            raise forms.ValidationError("An SOP with this name exists; edit it instead.")
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns; the stubs allow None
        name = self.instance.name if self.instance.pk else data.get("name")
        if not name or self.errors:
            return data
        publish = bool(data.get("publish"))
        if publish and not (self.user and self.user.has_perm("salesops.publish_sopversion")):
            # The same rule as the API and the publish action: saving a draft is an edit,
            # making it the version runs use is a decision of its own.
            self.add_error("publish", "You may save drafts; publishing needs the publish right.")
            return data
        try:
            self.version, self.created = sop_version_create(
                sop_name=name, text=data["text"], author=self.user, source="admin"
            )
            held = None
            if publish and not self.version.published:
                confirmed = bool(data.get("publish_fewer_evals"))
                held = evals_publish_gated(self.version, user=self.user, confirmed=confirmed)
        except SpecError as exc:
            self.add_error("text", [str(issue) for issue in exc.issues])
            return data
        # The service made (or found) the Sop; the admin saves nothing more on it.
        self.instance = Sop.objects.get(pk=self.version.sop_id)
        if held is not None:  # the edit is kept as a draft; publishing waits for a confirm
            message = f"Saved as draft {self.version}, {evals_held_message(held)}."
            self.add_error("publish_fewer_evals", message)
        return data


class SopVersionTryForm(forms.Form):
    """Pick a CRM record to try a version on in shadow mode."""

    record_id = forms.CharField(max_length=64, help_text="The CRM id of the record, e.g. c-0001.")


class FragmentForm(forms.ModelForm):
    """Edit a shared fragment; saving publishes a new version of every SOP that includes it."""

    class Meta:
        model = Fragment
        fields = ("name", "text")
        widgets = {"text": forms.Textarea(attrs={**MONOSPACE, "rows": 30})}

    user: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upgraded: list[SopVersion] = []

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if Fragment.objects.filter(name=name).exists():
            raise forms.ValidationError("A fragment with this name exists; edit it instead.")
        return name

    def clean_text(self) -> str:
        return _bounded_text(self.cleaned_data["text"], source="the fragment")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns; the stubs allow None
        name = self.instance.name if self.instance.pk else data.get("name")
        if not name or self.errors:
            return data
        try:
            self.upgraded = fragment_update(name=name, text=data["text"], author=self.user)
        except SpecError as exc:
            self.add_error("text", [str(issue) for issue in exc.issues])
            return data
        self.instance = Fragment.objects.get(name=name)
        return data


class EscalationDecisionForm(forms.ModelForm):
    """A reviewer's decision on an escalated run: approve, edit then approve, or reject."""

    APPROVE, EDIT, REJECT = "approve", "edit", "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, "Approve as is"), (EDIT, "Edit, then approve"), (REJECT, "Reject")],
        widget=forms.RadioSelect,
    )
    edited_result = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={**MONOSPACE, "rows": 24}),
        help_text="Used for 'Edit, then approve'. It is verified in full, like the run's own "
        "result: schema, grounding, acceptance and escalation conditions.",
    )
    override = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Override failed checks",
        help_text="Approving over a failed check needs it ticked here and a reason below; the "
        "audit trail shows it as overridden by you, never as passed. The schema cannot be "
        "overridden.",
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the ticked checks may be approved over (kept on the run).",
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A note with the approval; required as the reason when rejecting.",
    )

    class Meta:
        model = Escalation
        fields: tuple[str, ...] = ()

    user: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.run.output is not None:
            self.fields["edited_result"].initial = pretty_json(self.instance.run.output)
        if self.instance.pk:
            override = self.fields["override"]
            assert isinstance(override, forms.MultipleChoiceField)  # declared above
            override.choices = escalation_overridable_checks(escalation=self.instance)

    def clean_edited_result(self) -> Any:
        raw = self.cleaned_data.get("edited_result", "")
        if self.data.get(self.add_prefix("decision")) != self.EDIT:
            return None
        if not raw.strip():
            raise forms.ValidationError("Paste the edited result (JSON) to approve with an edit.")
        try:
            # Bounded like the API: size, depth, numbers, strings, encoding, before parsing.
            return json_loads_bounded(raw, DEFAULT_LIMITS)
        except InputRejected as exc:
            reason = exc.reason.replace("not valid JSON", "Not valid JSON", 1)
            raise forms.ValidationError(f"{reason}.") from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns; the stubs allow None
        if self.errors:
            return data
        decision, note = data["decision"], data.get("note", "").strip()
        edited = data.get("edited_result")
        if decision == self.REJECT and not note:
            self.add_error("note", "A rejection needs a reason.")
            return data
        overrides: dict[str, str] = {}
        if decision != self.REJECT and data.get("override"):
            reason = data.get("override_reason", "").strip()
            if not reason:
                self.add_error("override_reason", "Overriding a check needs a reason.")
                return data
            overrides = dict.fromkeys(data["override"], reason)
        try:
            if decision == self.REJECT:
                self.instance = escalation_reject(
                    escalation=self.instance, user=self.user, reason=note
                )
            else:
                self.instance = escalation_approve(
                    escalation=self.instance,
                    user=self.user,
                    edited_output=edited,
                    overrides=overrides,
                    note=note,
                )
        except EscalationError as exc:
            field = "edited_result" if decision == self.EDIT else None
            self.add_error(field, exc.problems)
        return data


class EditApproveForm(ResultForm):
    """Edit an escalated result field by field (fields from the SOP's output schema), then
    approve it: the approval service verifies the edit in full before anything is saved."""

    override = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Override failed checks",
        help_text="Approve over these checks if the edit still fails them; needs a reason. "
        "The schema cannot be overridden.",
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the ticked checks may be approved over (kept on the run).",
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the approval.",
    )

    def __init__(self, *args: Any, escalation: Escalation, **kwargs: Any) -> None:
        run = escalation.run
        current = escalation.edited_output if escalation.edited_output is not None else run.output
        super().__init__(
            *args, schema=sop_spec_get(run.sop_version).output, output=current, **kwargs
        )
        self.escalation = escalation
        override = self.fields["override"]
        assert isinstance(override, forms.MultipleChoiceField)  # declared above
        override.choices = escalation_overridable_checks(escalation=escalation)
        # The decision fields come after the result's own.
        for name in ("override", "override_reason", "note"):
            self.fields[name] = self.fields.pop(name)

    def overrides(self) -> dict[str, str]:
        """{check id: reason} for the ticked checks (valid form only)."""
        reason = str(self.cleaned_data.get("override_reason") or "").strip()
        return dict.fromkeys(self.cleaned_data.get("override") or [], reason)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("override") and not str(data.get("override_reason") or "").strip():
            self.add_error("override_reason", "Overriding a check needs a reason.")
        return data


class RejectSelectedForm(forms.Form):
    """The reason for rejecting several escalations at once."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
