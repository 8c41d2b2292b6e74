"""The Salesforce emulator's schema: sObjects, their fields and types, key prefixes.

Only the objects and fields salesops touches, with Salesforce's names, types and key prefixes.
Values live in the store as Python types (str, bool, int, float, date, datetime, None);
`salesforce_values` renders and parses them as the REST API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KEY_PREFIX = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "OpportunityContactRole": "00K",
    "OpportunityFieldHistory": "017",
    "CustomField": "00N",
    "OutboundNotification": "04l",
}
PREFIX_TYPE = {p: t for t, p in KEY_PREFIX.items()}
SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)
TEXT_TYPES = frozenset(
    {"id", "reference", "string", "textarea", "email", "phone", "url", "picklist", "anyType"}
)
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})

STAGES: list[tuple[str, int, str]] = [
    ("Prospecting", 10, "Pipeline"),
    ("Qualification", 10, "Pipeline"),
    ("Needs Analysis", 20, "Pipeline"),
    ("Value Proposition", 50, "Pipeline"),
    ("Id. Decision Makers", 60, "Pipeline"),
    ("Perception Analysis", 70, "Pipeline"),
    ("Proposal/Price Quote", 75, "Pipeline"),
    ("Negotiation/Review", 90, "Pipeline"),
    ("Closed Won", 100, "Closed"),
    ("Closed Lost", 0, "Omitted"),
]
STAGE_DEFAULTS = {name: (prob, forecast) for name, prob, forecast in STAGES}
FORECAST_CATEGORIES = ["Omitted", "Pipeline", "Best Case", "Commit", "Closed"]
# The ISO codes a multi-currency org has enabled.
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
LEAD_STATUSES = [
    "Open - Not Contacted",
    "Open",
    "Working - Contacted",
    "Attempted to Contact",
    "Connected",
    "Bad Timing",
    "Closed - Converted",
    "Closed - Not Converted",
]
TASK_STATUSES = ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"]


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject as describe reports it."""

    name: str
    type: str = "string"
    required: bool = False  # nillable=False and no default: REQUIRED_FIELD_MISSING on create
    writable: bool = True
    custom: bool = False
    external_id: bool = False
    reference_to: tuple[str, ...] = ()
    picklist: tuple[str, ...] = ()
    default: Any = None
    length: int = 255

    @property
    def relationship_name(self) -> str | None:
        """Owner for OwnerId, Who for WhoId: the name SOQL uses to walk a reference."""
        if self.type != "reference":
            return None
        return self.name[:-3] + "__r" if self.custom else self.name.removesuffix("Id")

    def describe(self) -> dict[str, Any]:
        """The describe entry (the keys clients read)."""
        return {
            "name": self.name,
            "label": self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "custom": self.custom,
            "externalId": self.external_id,
            "idLookup": self.name == "Id" or self.external_id,
            "unique": self.external_id,
            "nillable": not self.required and self.type != "boolean",
            "createable": self.writable,
            "updateable": self.writable,
            "calculated": False,
            "defaultedOnCreate": self.default is not None or self.name in SYSTEM_FIELDS,
            "length": self.length if self.type in TEXT_TYPES else 0,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "picklistValues": [
                {"value": v, "label": v, "active": True, "defaultValue": v == self.default}
                for v in self.picklist
            ],
        }


def _f(name: str, type_: str = "string", **kw: Any) -> FieldDef:
    return FieldDef(name, type_, **kw)


def _ref(name: str, *targets: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", reference_to=targets, length=18, **kw)


def _system(sobject: str) -> list[FieldDef]:
    return [
        FieldDef("Id", "id", writable=False, length=18),
        _f("IsDeleted", "boolean", writable=False, default=False),
        _f("CreatedDate", "datetime", writable=False),
        _ref("CreatedById", "User", writable=False),
        _f("LastModifiedDate", "datetime", writable=False),
        _ref("LastModifiedById", "User", writable=False),
        _f("SystemModstamp", "datetime", writable=False),
    ]


_PERSON = [
    _f("FirstName"),
    _f("LastName", required=True),
    _f("Name", writable=False),
    _f("Email", "email"),
    _f("Phone", "phone"),
    _f("Title"),
    _f("LeadSource", "picklist", picklist=("Web", "Phone Inquiry", "Partner Referral", "Other")),
    _f("HasOptedOutOfEmail", "boolean", default=False),
    _ref("OwnerId", "User"),
    _f("Description", "textarea", length=32000),
    _f("LastActivityDate", "date", writable=False),
]
STANDARD_FIELDS: dict[str, list[FieldDef]] = {
    "User": [
        _f("Username"),
        _f("Email", "email"),
        _f("FirstName"),
        _f("LastName", required=True),
        _f("Name", writable=False),
        _f("Alias"),
        _f("IsActive", "boolean", default=True),
        _f("Title"),
    ],
    "Account": [
        _f("Name", required=True),
        _f("Website", "url"),
        _f("Industry", "picklist"),
        _f("NumberOfEmployees", "int"),
        _f("AnnualRevenue", "currency"),
        _f("BillingCountry"),
        _f("Phone", "phone"),
        _f(
            "Type",
            "picklist",
            picklist=("Prospect", "Customer - Direct", "Competitor Customer", "Other"),
        ),
        _ref("OwnerId", "User"),
        _f("Description", "textarea", length=32000),
        _f("LastActivityDate", "date", writable=False),
    ],
    "Contact": [
        *_PERSON,
        _ref("AccountId", "Account"),
        _f("MailingCountry"),
    ],
    "Lead": [
        *_PERSON,
        _f("Company"),
        _f("Country"),
        _f("Industry", "picklist"),
        _f("NumberOfEmployees", "int"),
        _f("Website", "url"),
        _f("Status", "picklist", picklist=tuple(LEAD_STATUSES), default=LEAD_STATUSES[0]),
        _f("Rating", "picklist", picklist=("Hot", "Warm", "Cold")),
        _f("IsConverted", "boolean", writable=False, default=False),
        _ref("ConvertedContactId", "Contact", writable=False),
        _ref("ConvertedAccountId", "Account", writable=False),
        _ref("ConvertedOpportunityId", "Opportunity", writable=False),
        _f("ConvertedDate", "date", writable=False),
    ],
    "Opportunity": [
        _f("Name", required=True),
        _f("StageName", "picklist", required=True, picklist=tuple(s[0] for s in STAGES)),
        _f("CloseDate", "date", required=True),
        _f("Amount", "currency"),
        # A multi-currency org (the sample's deals are in five currencies).
        _f("CurrencyIsoCode", "picklist", picklist=CURRENCIES),
        _f("Probability", "percent"),
        _f("ForecastCategoryName", "picklist", picklist=tuple(FORECAST_CATEGORIES)),
        _f("NextStep"),
        _f("Type", "picklist", picklist=("New Business", "Existing Business")),
        _f("LeadSource", "picklist"),
        _f("IsClosed", "boolean", writable=False, default=False),
        _f("IsWon", "boolean", writable=False, default=False),
        _ref("AccountId", "Account"),
        _ref("OwnerId", "User"),
        _f("Description", "textarea", length=32000),
        _f("LastActivityDate", "date", writable=False),
    ],
    "OpportunityContactRole": [
        _ref("OpportunityId", "Opportunity", required=True),
        _ref("ContactId", "Contact", required=True),
        _f("Role", "picklist", picklist=("Decision Maker", "Economic Buyer", "Influencer")),
        _f("IsPrimary", "boolean", default=False),
    ],
    "Task": [
        _f("Subject"),
        _f("Description", "textarea", length=32000),
        _f("ActivityDate", "date"),
        _f("Status", "picklist", picklist=tuple(TASK_STATUSES), default="Not Started"),
        _f("Priority", "picklist", picklist=("High", "Normal", "Low"), default="Normal"),
        _f(
            "TaskSubtype",
            "picklist",
            picklist=("Task", "Email", "Call", "LinkedIn"),
            default="Task",
        ),
        _f("Type", "picklist", picklist=("Call", "Email", "Meeting", "Other")),
        _f("CallType", "picklist", picklist=("Inbound", "Outbound", "Internal")),
        _f("CallDisposition"),
        _f("CallDurationInSeconds", "int"),
        _f("IsClosed", "boolean", writable=False, default=False),
        _f("CompletedDateTime", "datetime", writable=False),
        _ref("WhoId", "Contact", "Lead"),
        _ref("WhatId", "Account", "Opportunity"),
        _ref("OwnerId", "User"),
    ],
    "Event": [
        _f("Subject"),
        _f("Description", "textarea", length=32000),
        _f("StartDateTime", "datetime"),
        _f("EndDateTime", "datetime"),
        _f("ActivityDateTime", "datetime"),
        _f("ActivityDate", "date"),
        _f("DurationInMinutes", "int"),
        _f("Location"),
        _f("Type", "picklist", picklist=("Call", "Email", "Meeting", "Other")),
        _f("EventSubtype", "picklist", picklist=("Event",), default="Event"),
        _ref("WhoId", "Contact", "Lead"),
        _ref("WhatId", "Account", "Opportunity"),
        _ref("OwnerId", "User"),
    ],
    "OpportunityFieldHistory": [
        _ref("OpportunityId", "Opportunity", writable=False),
        _f("Field", "picklist", writable=False),
        _f("DataType", writable=False),
        _f("OldValue", "anyType", writable=False),
        _f("NewValue", "anyType", writable=False),
    ],
}
# What a provisioned org has created for salesops (Setup -> Object Manager in a real org).
SALESOPS_CUSTOM_FIELDS: dict[str, list[FieldDef]] = {
    "Contact": [
        _f("ai_score__c", "double", custom=True),
        _f("ai_tier__c", custom=True),
        _f("lead_status__c", custom=True),  # a Contact has no Status of its own
    ],
    "Lead": [
        _f("ai_score__c", "double", custom=True),
        _f("ai_tier__c", custom=True),
    ],
    "Opportunity": [_f("ai_health__c", custom=True)],
    "Task": [_f("Salesops_Key__c", custom=True, external_id=True)],
}
# Tooling API metadata type -> field type, for CustomField creation.
METADATA_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Number": "double",
    "Percent": "percent",
    "Currency": "currency",
    "Checkbox": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "Picklist": "picklist",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
}


def standard_fields(sobject: str) -> dict[str, FieldDef]:
    """An object's standard fields by name, system fields first."""
    fields = _system(sobject) + STANDARD_FIELDS[sobject]
    if sobject == "User":  # users are deactivated, never deleted
        fields = [f for f in fields if f.name != "IsDeleted"]
    return {f.name: f for f in fields}


@dataclass
class Schema:
    """One org's objects: standard fields plus the custom ones it has created."""

    custom: dict[str, dict[str, FieldDef]] = field(default_factory=dict)

    def objects(self) -> list[str]:
        """The sObject names the org knows."""
        return list(STANDARD_FIELDS)

    def fields(self, sobject: str) -> dict[str, FieldDef]:
        """Every field of an object (standard and custom) by name."""
        return {**standard_fields(sobject), **self.custom.get(sobject, {})}

    def field(self, sobject: str, name: str) -> FieldDef | None:
        """A field by name, case-insensitive as in Salesforce."""
        fields = self.fields(sobject)
        found = fields.get(name)
        if found is not None:
            return found
        lower = name.lower()
        return next((f for n, f in fields.items() if n.lower() == lower), None)

    def object_name(self, name: str) -> str | None:
        """The canonical spelling of an sObject name, case-insensitive."""
        return next((o for o in STANDARD_FIELDS if o.lower() == name.lower()), None)

    def add_custom(self, sobject: str, fdef: FieldDef) -> None:
        """Create a custom field."""
        self.custom.setdefault(sobject, {})[fdef.name] = fdef


def make_id(sobject: str, serial: int, pod: str = "5g") -> str:
    """An 18-character Id (see `salesforce_values.make_id`, where it lives; kept importable here
    for callers that build Ids next to the schema)."""
    from tests.emulators.salesforce_values import make_id as build

    return build(sobject, serial, pod)
