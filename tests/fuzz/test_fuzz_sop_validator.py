"""Hostile SOP text through the validator, the admin, the API and load_sops: a SpecError with
issues, a 200 with inline errors, a 400 or a CommandError; never another exception or a 500."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from salesops.models import Sop, SopVersion
from salesops.specs import ExpressionScope, Fragment, SpecError, parse_sop
from salesops.specs.expressions import check_expression

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "specs"))
from specs_samples import OUTPUT, parse, sop_text

ROOT = Path(__file__).resolve().parents[2]
SCOPE = ExpressionScope.for_sop("contact", OUTPUT, event=True)
DEEP_PARENS = "(" * 300 + "true" + ")" * 300
LONG_AND = " && ".join(["true"] * 1200)  # 1,200 terms: under the YAML string limit
NESTED_THREE = "result.rationale.all(a, result.rationale.all(b, result.rationale.all(c, true)))"
ALIAS_BOMB = "\n".join(
    ["bomb_a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"bomb_{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)

TOKENS = [
    "(", ")", "[", "]", "{", "}", "&&", "||", "!", "-", "+", "*", "/", "%", "?", ":", ",", ".",
    "==", "!=", "<", ">=", "in", "true", "null", "1", "2.5", "'a'", '"b"', "r'\\'", "'''",
    "record", "result", "score", "tier", "company", "employees", "rationale", "has(", "size(",
    ".exists(x,", ".all(y,", ".map(z,", ".filter(w,", "x", "y", "now", "today",
]  # fmt: skip
expressions = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=400).map("".join),
    st.integers(0, 2000).map(lambda n: "(" * n + "true" + ")" * n),
    st.integers(0, 4000).map(lambda n: " && ".join(["true"] * n)),
    st.integers(0, 3000).map(lambda n: "!" * n + "true"),
    st.integers(1, 6).map(
        lambda n: "".join(f"result.rationale.exists(v{i}, " for i in range(n)) + "true" + ")" * n
    ),
    st.text(max_size=300),
)
YAML_CHARS = "[]{}&*:-!|>'\"\n #,?%@`a1."
front_matters = st.one_of(
    st.text(alphabet=YAML_CHARS, max_size=400),
    st.integers(0, 3000).map(lambda n: "d: " + "[" * n + "]" * n),
    st.integers(1, 12).map(lambda n: ALIAS_BOMB.split("\n", n)[-1] if n < 9 else ALIAS_BOMB),
    st.text(max_size=200),
)
BOUNDED = settings(max_examples=80, deadline=None)


@BOUNDED
@given(text=expressions)
def test_an_expression_is_accepted_or_refused_with_problems(text: str) -> None:
    expression, problems = check_expression(text, SCOPE)
    assert (expression is None) == bool(problems)
    assert all(isinstance(problem, str) and problem for problem in problems)


@settings(max_examples=40, deadline=None)
@given(check=expressions)
def test_an_sop_with_any_check_parses_or_lists_its_issues(check: str) -> None:
    try:
        parse(sop_text({("acceptance", 0, "check"): check}))
    except SpecError as exc:
        assert exc.issues


@BOUNDED
@given(front_matter=front_matters, body=st.text(max_size=200))
def test_any_front_matter_parses_or_lists_its_issues(front_matter: str, body: str) -> None:
    try:
        parse_sop(
            f"---\n{front_matter}\n---\n{body}",
            source="x.md",
            fragments={"p": Fragment(name="p", title="P", body="b", source="p.md")},
            known_skills=set(),
            offline_skills=set(),
        )
    except SpecError as exc:
        assert exc.issues


# --- the edges: admin form, API, load_sops ---------------------------------------------------
# One shipped SOP and its fragment, not the whole library: these tests stay within seconds.


@pytest.fixture
def lead_sop(db) -> Sop:
    """lead-qualification v1, published, with the company-policy fragment it includes."""
    from salesops.services.sops import fragment_update, sop_version_create

    fragment = (ROOT / "sop_library" / "fragments" / "company-policy.md").read_text()
    fragment_update(name="company-policy", text=fragment)
    text = (ROOT / "sop_library" / "lead-qualification.md").read_text()
    sop_version_create(sop_name="lead-qualification", text=text, publish=True)
    return Sop.objects.select_related("published_version").get(name="lead-qualification")


@pytest.fixture
def as_manager(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def api_manager(manager) -> APIClient:
    client = APIClient()
    client.force_authenticate(manager)
    return client


def admin_edit(client: Client, sop: Sop, text: str) -> Any:
    url = reverse("admin:salesops_sop_change", args=[sop.pk])
    return client.post(url, {"text": text, "publish": "on"})


def with_check(text: str, check: str) -> str:
    """The text with its first acceptance check replaced by `check`."""
    head, sep, rest = text.partition("    check: ")
    _, _, tail = rest.partition("\n")
    return f'{head}{sep}"{check}"\n{tail}'


def with_bomb(text: str) -> str:
    return text.replace("---\n", f"---\n{ALIAS_BOMB}\n", 1)


COSTLY_CHECKS = {
    DEEP_PARENS: "acceptance[0].check: brackets are nested 300 deep; the limit is 12",
    LONG_AND: "acceptance[0].check: the expression is 9596 characters long; the limit is 1000",
    NESTED_THREE: "acceptance[0].check: comprehensions (exists, all, exists_one, map, filter) "
    "are nested 3 deep; the limit is 2",
}
BOMB_ISSUE = "front_matter: the front matter has more than 5000 values (aliases expanded)"


def test_the_admin_shows_costly_text_inline_and_stores_nothing(as_manager: Client, lead_sop):
    text = lead_sop.published_version.text
    for check, problem in COSTLY_CHECKS.items():
        response = admin_edit(as_manager, lead_sop, with_check(text, check))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["text"]
        assert f"lead-qualification.md: {problem}" in errors
    response = admin_edit(as_manager, lead_sop, with_bomb(text))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["text"] == [
        f"lead-qualification.md: {BOMB_ISSUE}"
    ]
    assert SopVersion.objects.filter(sop=lead_sop).count() == 1


def test_the_fragment_admin_refuses_over_long_text_inline(as_manager: Client, db):
    url = reverse("admin:salesops_fragment_add")
    response = as_manager.post(url, {"name": "huge", "text": "x" * 100_001})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["text"] == [
        "the fragment: text: the text is 100001 characters; the limit is 100000"
    ]


def test_the_api_answers_400_naming_the_limit(api_manager: APIClient, lead_sop):
    text = lead_sop.published_version.text
    url = "/api/sops/lead-qualification/versions/"
    for check, problem in COSTLY_CHECKS.items():
        response = api_manager.post(url, {"text": with_check(text, check)}, format="json")
        assert response.status_code == 400
        assert f"lead-qualification.md: {problem}" in response.json()["errors"]["text"]
    response = api_manager.post(url, {"text": with_bomb(text)}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["text"] == [f"lead-qualification.md: {BOMB_ISSUE}"]
    assert SopVersion.objects.filter(sop=lead_sop).count() == 1


def test_load_sops_reports_a_costly_file_as_a_command_error(tmp_path: Path, db):
    library = tmp_path / "sop_library"
    for folder in ("fragments", "skills"):
        shutil.copytree(ROOT / "sop_library" / folder, library / folder)
    bombed = with_bomb((ROOT / "sop_library" / "follow-up.md").read_text())
    (library / "follow-up.md").write_text(bombed)
    with pytest.raises(CommandError, match=r"sop_library/follow-up.md: front_matter: .*aliases"):
        call_command("load_sops", path=library, stdout=io.StringIO())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(check=expressions)
def test_the_admin_never_answers_500(as_manager: Client, lead_sop: Sop, check: str) -> None:
    text = with_check(lead_sop.published_version.text, check.replace('"', "'"))
    response = admin_edit(as_manager, lead_sop, text.replace("\r", " "))
    assert response.status_code in (200, 302)
