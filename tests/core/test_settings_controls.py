"""Settings you can click: every setting gets a control derived from its type, and every page
of every section fits Discord's component limits (no hand-typed list to keep in step)."""

from __future__ import annotations

from typing import Literal

import pytest

from cogs._shared import settings_fields
from cogs._shared.settings_fields import (
    MAX_BUTTONS,
    MAX_FORM_LINES,
    MAX_OPTIONS,
    MAX_ROWS,
    field_of,
    label_of,
    layout,
    part_of,
    sections,
)
from economy.registry import GuildSettings, section_of, settings_sections

pytestmark = pytest.mark.timeout(30)


def test_each_type_gets_its_control():
    kinds = {key: field_of(key).kind for key in GuildSettings.model_fields}
    assert kinds["trade_channel_id"] == "channel" and kinds["moderator_role_id"] == "role"
    assert kinds["activity_excluded_channels"] == "channels"
    assert kinds["activity_excluded_roles"] == "roles" and kinds["mentor_level_roles"] == "roles"
    assert kinds["marketplace_approval"] == "bool" and kinds["boost_stacking"] == "choice"
    assert kinds["disabled_features"] == "choices"
    assert kinds["daily_amount"] == "form" and kinds["holder_perks"] == "form"
    assert kinds["marketplace_categories"] == "form"  # free names: a comma list in a form
    assert field_of("boost_stacking").options == (("highest", "highest"), ("multiply", "multiply"))
    assert field_of("double_weekend").options == (("on", "On"), ("off", "Off"))
    # Every id-typed setting is a select: nobody types `<#id>` any more.
    for key, field in GuildSettings.model_fields.items():
        if key.endswith(("_channel_id", "_role_id", "_channels", "_roles")):
            assert kinds[key] != "form", key
        if field.annotation is bool or getattr(field.annotation, "__origin__", None) is Literal:
            assert kinds[key] in ("bool", "choice"), key


def test_every_setting_is_on_exactly_one_page_of_its_section():
    assert list(sections()) == [name for name, _, model in settings_sections() if model.model_fields]
    for setup in (False, True):
        for name in sections():
            for part in layout(name, setup=setup):
                keys = [f.key for f in part.pickers] + [f.key for form in part.forms for f in form]
                assert all(section_of(k) == name for k in keys)
    for key in GuildSettings.model_fields:
        parts = layout(section_of(key))
        homes = [i for i, p in enumerate(parts)
                 if key in [f.key for f in p.pickers] + [f.key for form in p.forms for f in form]]
        assert homes == [part_of(key)], key


@pytest.mark.parametrize("setup", [False, True])
def test_every_page_fits_discords_limits(setup):
    for name, (title, fields) in sections().items():
        parts = layout(name, setup=setup)
        for part in parts:
            navigation = 2 if setup or len(parts) > 1 else 0
            rows = len(part.pickers) + (0 if setup else 1) + (1 if part.forms or navigation else 0)
            assert rows <= MAX_ROWS, (name, part)
            assert len(part.forms) + navigation <= MAX_BUTTONS, (name, part)
            assert all(1 <= len(form) <= MAX_FORM_LINES for form in part.forms)
        assert len(title) <= 45  # the form's title
        for f in fields:
            assert len(f.label) <= 45 and len(f.options) <= MAX_OPTIONS  # a text input's label
        assert len(sections()) <= MAX_OPTIONS  # the section select


def test_setup_keeps_every_select_and_the_first_form():
    for name, (_, fields) in sections().items():
        parts = layout(name, setup=True)
        selects = [f.key for p in parts for f in p.pickers]
        assert selects == [f.key for f in fields if f.kind != "form"]
        forms = [form for p in parts for form in p.forms]
        assert forms == list(layout(name)[0].forms[:1])
    wallet = [f.key for f in layout("currency", setup=True)[0].forms[0]]
    assert wallet[0] == "daily_amount" and "activity_amount" in wallet


def test_labels_are_read_from_keys():
    assert label_of("daily_streak_cap") == "Daily streak cap"
    assert label_of("trade_channel_id") == "Trade channel"
    assert settings_fields.CHANNEL_TYPES["guides_channel_id"] == (0, 15)  # guides may go to a forum
