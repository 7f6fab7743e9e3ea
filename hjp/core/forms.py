from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def error_summary(*forms_) -> list[dict]:
    """Every error of the given forms, each with the id of the field it belongs to, for the summary that
    heads a page and links to each field."""
    items = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            items.append({"field_id": "", "label": "", "message": message})
        for name, errors in form.errors.items():
            if name == "__all__":
                continue
            bound = form[name]
            for message in errors:
                # Radio buttons and checkbox groups have no single labelled input: link to the first.
                field_id = bound.id_for_label or f"{bound.auto_id}_0"
                items.append({"field_id": field_id, "label": bound.label, "message": message})
    return items
