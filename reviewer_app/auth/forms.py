from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from .. import limits
from ..formhelpers import choice
from ..formhelpers import strip as _strip
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=limits.USER_EMAIL), Email()],
        filters=[_strip],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField(validators=[Length(max=500)])
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        filters=[_strip],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )
    submit = SubmitField(_l("Confirm"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        description=_l(
            "At least %(count)d characters. A few unrelated words make a strong password.",
            count=MIN_PASSWORD_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set password"))


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=limits.USER_EMAIL), Email()],
        filters=[_strip],
    )
    submit = SubmitField(_l("Send me a link"))


class ConfirmFactorsForm(FlaskForm):
    """Both factors again, before a change to how the account signs in."""

    password = PasswordField(
        _l("Your password, to confirm"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Code from your app"),
        validators=[DataRequired(), Length(max=40)],
        filters=[_strip],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"), choices=[choice("en", "English"), choice("de", "Deutsch")]
    )
    next = HiddenField(validators=[Length(max=500)])
