"""deploy.adapter.text_field: a request's text field takes at most MAX_TEXT characters, and its schema says a
blank text is refused unless ``blank``."""
import pytest
from pydantic import TypeAdapter, ValidationError

from lstmkit.deploy.adapter import MAX_TEXT, NOT_BLANK, text_field


@pytest.mark.parametrize("blank", [False, True])
def test_a_text_field_takes_max_text_characters_and_not_one_more(blank):
    field = TypeAdapter(text_field(blank=blank))
    assert field.validate_python("a" * MAX_TEXT) == "a" * MAX_TEXT
    with pytest.raises(ValidationError, match="at most 100000 characters"):
        field.validate_python("a" * (MAX_TEXT + 1))
    schema = field.json_schema()
    assert schema["maxLength"] == MAX_TEXT
    assert (schema.get("pattern") == NOT_BLANK["pattern"]) is not blank


def test_a_text_fields_own_bound_is_its_own():
    field = TypeAdapter(text_field(max_length=3))
    assert field.validate_python("abc") == "abc"
    with pytest.raises(ValidationError):
        field.validate_python("abcd")
