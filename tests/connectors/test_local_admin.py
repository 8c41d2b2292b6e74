"""The local CRM is browsable in admin, with a configuration Django accepts."""

from __future__ import annotations

import pytest
from django.contrib import admin

from connectors.local import models as m


@pytest.mark.parametrize(
    "model", [m.Owner, m.Company, m.Contact, m.Deal, m.Activity, m.Note, m.Task]
)
def test_it_registers_each_table_with_a_valid_admin(model):
    model_admin = admin.site._registry[model]
    assert model_admin.check() == []


@pytest.mark.parametrize("model", [m.Company, m.Contact, m.Deal])
def test_it_shows_the_timeline_and_the_ai_writes_on_each_record(model):
    inlines = {inline.model for inline in admin.site._registry[model].inlines}
    assert inlines == {m.Activity, m.Note, m.Task}
