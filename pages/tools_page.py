"""/tools: the user's MCP servers. Add one (a local command or a URL), test it, see its tools,
turn servers and tools on or off, choose which tools ask before they run. Secret values
(environment, headers) are shown masked once saved; leaving the mask keeps them."""

from __future__ import annotations

import shlex

from nicegui import ui

from pages.feedback import attempt, describe
from pages.frame import page_frame
from pages.i18n import _
from pages.session import recheck, signed_in_page
from services.context import Services
from services.errors import ChatAppError, InvalidInput
from services.models import ToolServer, User
from services.tools.service import ToolChoice


def pairs(text: str, separator: str) -> dict[str, str]:
    """`NAME=value` (or `Name: value`) lines to a dict; blank lines are skipped."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(separator)
        if not sep:
            raise InvalidInput(
                _("Write each line as name{separator}value.").format(separator=separator)
            )
        found[name.strip()] = value.strip()
    return found


def lines_of(values: dict[str, str], separator: str) -> str:
    return "\n".join(f"{name}{separator}{value}" for name, value in values.items())


def register(services: Services) -> None:
    @signed_in_page(services, "/tools", title="Tools · chatapp")
    async def tools(user: User) -> None:
        page_frame(services, user, _("Tools"))
        ToolsScreen(services, user)


class ToolsScreen:
    def __init__(self, services: Services, user: User) -> None:
        self.services = services
        self.user = user
        with ui.column().classes("w-full max-w-3xl mx-auto gap-4 p-4"):
            ui.label(_("Tools")).classes("text-h5").props('role="heading" aria-level="1"')
            ui.label(
                _(
                    "Tool servers (MCP) give the model tools to use: the time, files, the web, "
                    "your own programs. Turn a server on for a chat in the chat's settings; a "
                    "tool asks you before it runs unless you allow it always."
                )
            ).classes("text-sm")
            self.list = ui.column().classes("w-full gap-3").mark("tool-servers")
            ui.button(_("Add a server"), icon="add", on_click=lambda: self.edit(None)).props(
                "outline no-caps"
            ).mark("add-server")
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        servers = await attempt(lambda: self.services.tools.list_servers(self.user)) or []
        self.list.clear()
        with self.list:
            if not servers:
                ui.label(_("No tool servers yet.")).classes("muted")
            for server in servers:
                self._card(server)

    def _card(self, server: ToolServer) -> None:
        with ui.card().classes("w-full").props("flat bordered").mark("tool-server"):
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                with ui.column().classes("grow gap-0 min-w-0"):
                    ui.label(server.name).classes("text-subtitle1 ellipsis")
                    where = (
                        " ".join([server.command, *map(shlex.quote, server.args)])
                        if server.transport == "stdio"
                        else server.url
                    )
                    kind = _("Local command") if server.transport == "stdio" else _("Remote (HTTP)")
                    ui.label(f"{kind} · {where}").classes("text-xs muted tool-server-where")

                async def toggle(event, server: ToolServer = server) -> None:  # type: ignore[no-untyped-def]
                    if await recheck(self.services) is None:
                        return
                    tools = self.services.tools
                    await attempt(
                        lambda: tools.update_server(self.user, server.id, enabled=event.value)
                    )

                switch = ui.switch(value=server.enabled, on_change=toggle)
                switch.props["aria-label"] = _("Use {name}").format(name=server.name)
                edit = ui.button(icon="edit", on_click=lambda s=server: self.edit(s))
                edit.props("flat round dense").props["aria-label"] = _("Edit {name}").format(
                    name=server.name
                )
                remove = ui.button(icon="delete", on_click=lambda s=server: self.delete(s))
                remove.props("flat round dense").props["aria-label"] = _("Remove {name}").format(
                    name=server.name
                )
            tools_box = ui.column().classes("w-full gap-1")
            ui.button(
                _("Test and list tools"), on_click=lambda s=server: self.show_tools(s, tools_box)
            ).props("flat dense no-caps").mark("test-server")

    async def show_tools(self, server: ToolServer, box: ui.column) -> None:
        if await recheck(self.services) is None:
            return
        box.clear()
        with box:
            ui.spinner()
        try:
            tools = await self.services.tools.test_server(self.user, server.id)
        except ChatAppError as exc:
            box.clear()
            with box:
                ui.label(_("Could not connect: {reason}").format(reason=describe(exc))).classes(
                    "text-negative text-sm"
                ).props('role="alert"')
            return
        box.clear()
        with box:
            ui.label(_("{count} tools").format(count=len(tools))).classes("text-sm").props(
                'role="status"'
            )
            for tool in tools:
                self._tool_row(server, tool)

    def _tool_row(self, server: ToolServer, tool: ToolChoice) -> None:
        approvals = {"ask": _("Ask every time"), "always": _("Always allow")}

        async def change(**choice: object) -> None:
            if await recheck(self.services) is None:
                return
            tools = self.services.tools
            await attempt(lambda: tools.set_tool(self.user, server.id, tool.name, **choice))  # type: ignore[arg-type]

        with ui.row().classes("w-full items-start no-wrap gap-2 tool-row").mark("tool-row"):
            with ui.column().classes("grow gap-0 min-w-0"):
                ui.label(tool.name).classes("tool-call-name text-sm")
                if tool.description:
                    ui.label(tool.description).classes("text-xs muted tool-description")
            ui.select(
                approvals,
                value=tool.approval,
                on_change=lambda e: change(approval=e.value),
            ).props("dense options-dense outlined").classes("min-w-[10rem]").props[
                "aria-label"
            ] = _("When {tool} runs").format(tool=tool.name)
            on = ui.switch(value=tool.enabled, on_change=lambda e: change(enabled=e.value))
            on.props["aria-label"] = _("Use {tool}").format(tool=tool.name)

    async def delete(self, server: ToolServer) -> None:
        if await recheck(self.services) is None:
            return
        tools = self.services.tools
        await attempt(lambda: tools.delete_server(self.user, server.id))
        await self.refresh()

    async def edit(self, server: ToolServer | None) -> None:
        """Add a server (None) or change one, in a dialog."""
        if await recheck(self.services) is None:
            return
        kinds = {"http": _("Remote (HTTP)")}
        if self.user.is_owner:  # a command runs on this machine: the owner's call only
            kinds = {"stdio": _("Local command"), **kinds}
        with ui.dialog() as dialog, ui.card().classes("w-full max-w-xl"):
            dialog.props["aria-label"] = _("Tool server")
            ui.label(_("Tool server")).classes("text-h6")
            name = ui.input(_("Name"), value=server.name if server else "").classes("w-full")
            name.props("outlined dense").mark("server-name")
            kind = (
                ui.select(
                    kinds,
                    value=server.transport if server else next(iter(kinds)),
                    label=_("Kind"),
                )
                .props("outlined dense")
                .classes("w-full")
            )
            kind.set_enabled(server is None)
            with ui.column().classes("w-full gap-2") as local:
                command = (
                    ui.input(
                        _("Command"),
                        value=" ".join([server.command, *map(shlex.quote, server.args)])
                        if server
                        else "",
                    )
                    .props("outlined dense")
                    .classes("w-full")
                    .mark("server-command")
                )
                env = (
                    ui.textarea(
                        _("Environment (NAME=value, one per line)"),
                        value=lines_of(server.env, "=") if server else "",
                    )
                    .props("outlined dense autogrow")
                    .classes("w-full")
                )
            with ui.column().classes("w-full gap-2") as remote:
                url = (
                    ui.input(_("URL"), value=server.url if server else "")
                    .props("outlined dense")
                    .classes("w-full")
                    .mark("server-url")
                )
                headers = (
                    ui.textarea(
                        _("Headers (Name: value, one per line)"),
                        value=lines_of(server.headers, ": ") if server else "",
                    )
                    .props("outlined dense autogrow")
                    .classes("w-full")
                )
            local.bind_visibility_from(kind, "value", value="stdio")
            remote.bind_visibility_from(kind, "value", value="http")
            error = ui.label().classes("text-negative text-sm").props('role="alert"')

            async def save() -> None:
                if await recheck(self.services) is None:
                    return
                tools = self.services.tools
                try:
                    words = shlex.split(command.value or "")
                    fields = {
                        "name": name.value or "",
                        "command": words[0] if words else "",
                        "args": words[1:],
                        "env": pairs(env.value or "", "="),
                        "url": (url.value or "").strip(),
                        "headers": pairs(headers.value or "", ":"),
                    }
                    if server is None:
                        await tools.add_server(self.user, transport=kind.value, **fields)  # type: ignore[arg-type]
                    else:
                        await tools.update_server(self.user, server.id, **fields)  # type: ignore[arg-type]
                except ValueError as exc:  # shlex: an unclosed quote
                    error.text = _("The command cannot be read: {reason}").format(reason=exc)
                    return
                except ChatAppError as exc:
                    error.text = describe(exc)
                    return
                dialog.close()
                await self.refresh()

            with ui.row().classes("justify-end w-full"):
                ui.button(_("Cancel"), on_click=dialog.close).props("flat")
                ui.button(_("Save"), on_click=save).mark("save-server")
        dialog.on("hide", dialog.delete)
        dialog.open()
