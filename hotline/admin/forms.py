"""The admin pages' forms (templates/admin/*.html). The admin services check every value and word the
messages (they take raw text: a number field may hold anything), so these classes only name the fields the
pages post and hand them on; a field that is absent reaches the service as None unless noted."""
from __future__ import annotations

from typing import Any

from hotline.forms import Form, many, text


class UserForm(Form):
    """The account fields shared by creating and editing a user."""

    display_name = text()
    roles = many()
    department = text()
    phone = text()

    def account(self) -> dict[str, Any]:
        return {"display_name": self.display_name.data, "roles": [r for r in self.roles.data or [] if r],
                "department_code": self.department.data, "phone": self.phone.data}


class NewUserForm(UserForm):
    username = text()
    password = text()
    org = text(default=None)  # the organisation's code (hotline/orgs/); the admin's own when absent


class EditUserForm(UserForm):
    active = text(default=None)


class PasswordResetForm(Form):
    password = text()


class TokenForm(Form):
    username = text()
    days = text()
    scope = text(default="full")


class UnlockForm(Form):
    username = text(default=None)
    address = text(default=None)
    back = text(default=None)


class DepartmentForm(Form):
    code = text(default=None)
    name = text(default=None)
    sort_order = text(default=None)
    active = text(default=None)
    head = text(default=None)
    org = text(default=None)  # a new department's organisation (hotline/orgs/)


class TypesForm(Form):
    """Each type's reply limit and escalation, posted as reply_days-<code> and escalate_after-<code>. The
    codes are whatever the page sent (the service refuses an unknown one), so they are read by prefix."""

    def by_prefix(self, prefix: str) -> dict[str, str]:
        return {key[len(prefix):]: value for key, value in self.posted.items() if key.startswith(prefix)}

    def limits(self) -> dict[str, str]:
        return self.by_prefix("reply_days-")

    def escalate_after(self) -> dict[str, str]:
        return self.by_prefix("escalate_after-")


class CategoryForm(Form):
    code = text(default=None)
    name = text(default=None)
    reply_days = text(default=None)
    sort_order = text(default=None)
    active = text(default=None)


class YearForm(Form):
    year = text(default=None)
    holidays = text(default=None)
    makeup_days = text(default=None)
    replace = text(default=None)
    origin = text()


class MarkDayForm(Form):
    day = text(default=None)
    kind = text(default=None)
    note = text(default=None)

