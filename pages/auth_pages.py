"""Sign-in pages: first-run owner set-up, login, sign-up, and the account page."""

from __future__ import annotations

from fastapi.responses import RedirectResponse
from nicegui import ui

from pages.feedback import describe
from pages.frame import centered, page_frame
from pages.i18n import _
from pages.session import (
    browser_storage,
    current_user,
    enter,
    log_out,
    open_page,
    recheck,
    safe_next,
    sign_in,
    signed_in_page,
)
from pages.sharing import download_archive, import_box
from services.auth import PASSWORD_MIN
from services.context import Services
from services.errors import ChatAppError
from services.i18n import LANGUAGES, msg
from services.models import User


def password_rule() -> str:
    return _("Password must be at least {count} characters.").format(count=PASSWORD_MIN)


def new_account_fields() -> tuple[ui.input, ui.input, ui.input, ui.label]:
    name = ui.input(_("Your name")).props("outlined autofocus autocomplete=name").mark("name")
    email = ui.input(_("Email")).props("outlined type=email autocomplete=username").mark("email")
    password = ui.input(_("Password"), password=True, password_toggle_button=True).props(
        "outlined autocomplete=new-password"
    )
    password.props["hint"] = password_rule()  # a hint, not in the label: it would be cut
    password.mark("password")
    error = ui.label().classes("text-negative").props('role="alert"')
    return name, email, password, error


def register(services: Services) -> None:
    async def start_session(user: User, next_path: str | None = None) -> None:
        enter(services.auth.issue_token(user).token, next_path)

    def account_form(*, owner: bool) -> None:
        """Name, email and password fields that create an account and sign it in."""
        name, email, password, error = new_account_fields()

        async def create() -> None:
            try:
                if owner and not await services.auth.needs_setup():
                    raise ChatAppError(msg("The owner account exists already; please sign in."))
                user = await services.auth.register(
                    email=email.value or "",
                    password=password.value or "",
                    display_name=name.value or "",
                    is_owner=owner,
                )
            except ChatAppError as exc:
                error.text = describe(exc)
                return
            await start_session(user)

        password.on("keydown.enter", create)
        ui.button(_("Create account"), on_click=create).classes("w-full").mark("create-account")

    @open_page("/setup", title="Set up chatapp")
    async def setup() -> RedirectResponse | None:
        if not await services.auth.needs_setup():
            return RedirectResponse("/login")
        with centered(_("Create the owner account")):
            ui.label(_("This is the first start: the account you create now runs this site."))
            account_form(owner=True)
        return None

    @open_page("/login", title="Sign in · chatapp")
    async def login(next: str = "/", expired: str = "") -> RedirectResponse | None:
        if await services.auth.needs_setup():
            return RedirectResponse("/setup")
        if await current_user(services) is not None:
            return RedirectResponse(safe_next(next))
        with centered(_("Sign in")):
            if expired:  # sent here by a token that expired or was revoked (pages.session)
                ended = ui.label(_("Your session ended. Please sign in again."))
                ended.classes("session-ended").props('role="status"').mark("session-ended")
            email = ui.input(_("Email")).props(
                "outlined autofocus type=email autocomplete=username"
            )
            email.mark("email")
            password = ui.input(_("Password"), password=True, password_toggle_button=True).props(
                "outlined autocomplete=current-password"
            )
            password.mark("password")
            error = ui.label().classes("text-negative").props('role="alert"')

            async def submit() -> None:
                request = ui.context.client.request
                client = request.client.host if request.client else ""
                try:
                    user = await services.auth.authenticate(
                        email=email.value or "", password=password.value or "", client=client
                    )
                except ChatAppError as exc:
                    error.text = describe(exc)
                    return
                await start_session(user, next)

            password.on("keydown.enter", submit)
            ui.button(_("Sign in"), on_click=submit).classes("w-full").mark("sign-in")
            if services.options.allow_signup:
                ui.link(_("Create an account"), "/signup").classes("text-sm")
        return None

    @open_page("/signup", title="Create an account · chatapp")
    async def signup() -> RedirectResponse | None:
        if not services.options.allow_signup or await services.auth.needs_setup():
            return RedirectResponse("/login")
        with centered(_("Create an account")):
            account_form(owner=False)
            ui.link(_("I have an account"), "/login").classes("text-sm")
        return None

    @signed_in_page(services, "/account", title="Account · chatapp")
    async def account(user: User) -> None:
        page_frame(services, user, _("Account"))
        with ui.column().classes("w-full max-w-lg mx-auto gap-4 p-4"):
            ui.label(_("Account")).classes("text-h5").props('role="heading" aria-level="1"')
            ui.label(_("Signed in as {email}").format(email=user.email)).classes("text-subtitle1")
            with ui.card().classes("w-full form-card").props("flat bordered"):
                ui.label(_("Change password")).classes("text-h6")
                current = ui.input(_("Current password"), password=True).props(
                    "outlined autocomplete=current-password"
                )
                new = ui.input(_("New password"), password=True).props(
                    "outlined autocomplete=new-password"
                )
                new.props["hint"] = password_rule()
                message = ui.label().props('role="status"')

                async def change() -> None:
                    if (fresh := await recheck(services)) is None:
                        return
                    try:
                        fresh = await services.auth.change_password(
                            fresh, current=current.value or "", new=new.value or ""
                        )
                    except ChatAppError as exc:
                        message.text = describe(exc)
                        return
                    sign_in(services.auth.issue_token(fresh).token)
                    current.value = new.value = ""
                    message.text = _("Password changed. Other sessions were signed out.")

                ui.button(_("Change password"), on_click=change)
            with ui.card().classes("w-full form-card").props("flat bordered"):
                ui.label(_("Appearance")).classes("text-h6")

                async def set_theme(event) -> None:  # type: ignore[no-untyped-def]
                    if (fresh := await recheck(services)) is None:
                        return
                    settings = {**fresh.settings, "theme": event.value}
                    await services.store.update_user(fresh.id, settings=settings)
                    ui.dark_mode({"auto": None, "dark": True, "light": False}[event.value])

                ui.toggle(
                    {"auto": _("System"), "light": _("Light"), "dark": _("Dark")},
                    value=user.settings.get("theme", "auto"),
                    on_change=set_theme,
                )

                async def set_language(event) -> None:  # type: ignore[no-untyped-def]
                    if (fresh := await recheck(services)) is None:
                        return
                    settings = {**fresh.settings, "language": event.value}
                    await services.store.update_user(fresh.id, settings=settings)
                    browser_storage()["language"] = event.value  # the sign-in page too
                    ui.navigate.reload()

                ui.select(
                    {"": _("The browser's language"), **LANGUAGES},
                    value=user.settings.get("language") or "",
                    label=_("Language"),
                    on_change=set_language,
                ).props("outlined").classes("w-full").mark("language")
            with ui.card().classes("w-full form-card").props("flat bordered"):
                ui.label(_("Your chats")).classes("text-h6")
                ui.label(
                    _(
                        "Download every chat as one JSON file, or bring chats in: such a file, "
                        "or the conversations.json of a ChatGPT data export."
                    )
                ).classes("text-sm")
                ui.button(
                    _("Export all chats"), on_click=lambda: download_archive(services, user.id)
                ).props("outline").mark("export-all")
                import_box(services, user.id)
            with ui.card().classes("w-full form-card").props("flat bordered"):
                ui.label(_("Sessions")).classes("text-h6")

                async def everywhere() -> None:
                    if (fresh := await recheck(services)) is None:
                        return
                    await services.auth.sign_out_everywhere(fresh)
                    await log_out(services)

                ui.button(_("Sign out everywhere"), on_click=everywhere).props("outline")
                ui.button(_("Sign out"), on_click=lambda: log_out(services)).props("flat")
